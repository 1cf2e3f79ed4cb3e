"""Integrations of smbsign with other libraries."""
