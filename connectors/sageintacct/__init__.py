"""The Sage Intacct connector (XML Web Services gateway, DTD 3.0) and its emulator."""
