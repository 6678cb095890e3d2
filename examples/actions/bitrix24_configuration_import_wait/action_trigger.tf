# Run the action whenever the recorded process id changes: at create, and at
# every update to a new import. From Terraform 1.16, resources that depend on
# the trigger are created only after the action has seen the import finish;
# Terraform 1.14 and 1.15 give no such order (use the resource
# bitrix24_configuration_import_wait to gate dependents there).
resource "terraform_data" "crm_import" {
  input = var.crm_import_process_id

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.bitrix24_configuration_import_wait.crm]
    }
  }
}

# The action takes the id from the variable, as the trigger does: Terraform
# 1.16 warns when an action refers to the resource that triggers it (there
# that resource is `caller`, which Terraform 1.14 does not know).
action "bitrix24_configuration_import_wait" "crm" {
  config {
    process_id = var.crm_import_process_id
  }
}

resource "terraform_data" "after_crm_import" {
  input      = "configured after the CRM import"
  depends_on = [terraform_data.crm_import]
}

variable "crm_import_process_id" {
  type        = number
  description = "The processId that configuration.import.register returned."
}
