"""The chamber's staff: accounts, and the back-office where they curate the partner database."""
