# Record an import that has already ended, by its process id, while the portal
# still remembers it (2 to 3 days after it ended).
terraform import bitrix24_configuration_import_wait.crm 42
