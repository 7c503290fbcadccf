"""The local state folder: ledger, backups, config copies and the pending marker."""
