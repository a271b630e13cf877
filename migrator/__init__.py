"""teams-migrator: move chat history into Microsoft Teams through Microsoft Graph."""

__version__ = "0.1.0"
