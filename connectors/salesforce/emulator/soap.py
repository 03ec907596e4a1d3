"""The SOAP ``login`` call of the partner (``/services/Soap/u/``) and enterprise (``/services/Soap/c/``) APIs.

The request carries the username and the password with the security token appended; the answer is the
loginResponse envelope (serverUrl, sessionId, userId, userInfo) or, with HTTP 500, a LoginFault whose
``sf:exceptionCode`` clients read. Only login is served: the emulator's data API is REST.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from .auth import PASSWORD, SECURITY_TOKEN, USERNAME, Auth

_INVALID_LOGIN = "Invalid username, password, security token; or user locked out."
_NEEDS_TOKEN = (
    _INVALID_LOGIN + " Are you at a new location? When accessing Salesforce--either via a desktop client or the "
    "API--from outside of your company's trusted networks, you must add a security token to your password to log in."
)


def _fault(api: str, code: str, message: str, fault_type: str = "LoginFault") -> bytes:
    namespace = "partner" if api == "u" else "enterprise"
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:sf="urn:fault.{namespace}.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}"
        f'</faultstring><detail><sf:{fault_type} xsi:type="sf:{fault_type}"><sf:exceptionCode>{code}'
        f"</sf:exceptionCode><sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:{fault_type}>"
        "</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


def fault(api: str, code: str, message: str) -> bytes:
    """A SOAP fault envelope for a failure that is not about the credentials (an injected 5xx, say)."""
    return _fault(api, code, message, "UnexpectedErrorFault")


def login(auth: Auth, body: bytes, api: str, version: str, base_url: str) -> tuple[int, bytes]:
    """(HTTP status, envelope) for a login request; `api` is ``u`` (partner) or ``c`` (enterprise)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return 500, fault(api, "INVALID_SOAP", "Unable to parse the request envelope")
    values = {element.tag.rsplit("}", 1)[-1]: element.text or "" for element in root.iter()}
    if "login" not in values:
        return 500, fault(api, "INVALID_OPERATION", "Only the login call is served by this endpoint")
    if values.get("username") != USERNAME or values.get("password") not in (PASSWORD + SECURITY_TOKEN, PASSWORD):
        return 500, _fault(api, "INVALID_LOGIN", _INVALID_LOGIN)
    if values.get("password") == PASSWORD:
        return 500, _fault(api, "LOGIN_MUST_USE_SECURITY_TOKEN", _NEEDS_TOKEN)
    session = auth.new_session()
    namespace = "partner" if api == "u" else "enterprise"
    org15 = auth.org_id[:15]
    user_info = (
        "<accessibilityMode>false</accessibilityMode><currencySymbol>$</currencySymbol>"
        "<orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit>"
        "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>"
        "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments>"
        f"<orgHasPersonAccounts>false</orgHasPersonAccounts><organizationId>{auth.org_id}</organizationId>"
        "<organizationMultiCurrency>false</organizationMultiCurrency>"
        "<organizationName>duckfed sandbox</organizationName><profileId>00e5g000000000AAAA</profileId>"
        '<roleId xsi:nil="true"/>'
        f"<sessionSecondsValid>{auth.session_seconds}</sessionSecondsValid>"
        '<userDefaultCurrencyIsoCode xsi:nil="true"/><userEmail>myuser@example.com</userEmail>'
        f"<userFullName>Integration User</userFullName><userId>{auth.user_id}</userId>"
        f"<userLanguage>en_US</userLanguage><userLocale>en_US</userLocale><userName>{USERNAME}</userName>"
        "<userTimeZone>America/Los_Angeles</userTimeZone><userType>Standard</userType>"
        "<userUiSkin>Theme3</userUiSkin>"
    )
    envelope = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        f'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:{namespace}.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>'
        f"<metadataServerUrl>{base_url}/services/Soap/m/{version}/{org15}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{base_url}/services/Soap/{api}/{version}/{org15}</serverUrl>"
        f"<sessionId>{session}</sessionId><userId>{auth.user_id}</userId><userInfo>{user_info}</userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )
    return 200, envelope.encode()
