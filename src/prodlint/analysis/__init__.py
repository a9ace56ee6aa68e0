"""The cheap semantic layer every rule shares, built over the stdlib ``ast`` tree."""
