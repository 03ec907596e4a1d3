"""The emulation kit: what every vendor's emulator shares, so an emulator holds only its vendor's protocol.

- `server`: the HTTP/1.1 keep-alive loopback server, `Exchange` (a parsed request) and `Reply`.
- `emulator`: `Emulator`, the base class, which around every request counts it by kind, adds latency, injects
  faults (`faults`), enforces quotas (`quotas`) and runs actions scheduled `after` a request; `Mutation`.
- `clock`: `Clock`, one emulator's time, which tests advance instead of sleeping.
- `oauth`: `OAuthServer`, an OAuth 2.0 authorization server (code with PKCE, password and refresh grants,
  lifetimes, rotating refresh tokens).
- `cursors`: server-side result cursors that expire; `pools`: value pools and `HOSTILE_TEXT`;
  `loopback`: a `requests` session that sends a third-party client's every request to an emulator.

The kit knows no vendor: nothing here imports `connectors`. `federation.sandbox` runs the emulators.
"""
