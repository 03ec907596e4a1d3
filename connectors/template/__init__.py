"""The template connector: a small JSON REST API with bearer OAuth and its emulator, the kit's worked example."""
