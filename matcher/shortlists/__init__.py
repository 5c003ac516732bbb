"""Shortlists: staff keep named lists of partner organisations, with a note per entry, private or shared."""
