"""Services: the application's use cases, between handlers and storage."""
