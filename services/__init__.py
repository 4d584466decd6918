"""The three services of crm-bulk."""
