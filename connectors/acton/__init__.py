"""The Act-On connector: images, media, contact lists (one `List_<Name>` table each), lists and messages over
Act-On's REST API, with OAuth tokens kept across processes and its emulator."""
