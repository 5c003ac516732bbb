"""The consortium builder page for the EU-projects team: a call and its rules in, partners out."""
