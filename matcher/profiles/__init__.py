"""An enterprise's own profile: describe, see matches, come back by a private link, edit, download, erase."""
