"""Local fakes of the PSA/CRM vendors' REST APIs, one module per vendor (see common.py)."""
