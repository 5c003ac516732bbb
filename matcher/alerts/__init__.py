"""Saved searches and their alerts: staff save a search; new matching organisations are mailed to them."""
