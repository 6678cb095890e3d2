// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

const processIDDescription = "The `processId` that `configuration.import.register` returned: a positive whole " +
	"number. A number works too: `process_id = 42`."

// importStatusModel is what the data source and the resource record of an
// import, as configuration.import.get reported it. Both models embed it.
type importStatusModel struct {
	ID           types.String         `tfsdk:"id"`
	Status       types.String         `tfsdk:"status"`
	State        types.String         `tfsdk:"state"`
	Finished     types.Bool           `tfsdk:"finished"`
	Progress     types.Object         `tfsdk:"progress"`
	Notices      types.List           `tfsdk:"notices"`
	Errors       types.List           `tfsdk:"errors"`
	Exceptions   types.List           `tfsdk:"exceptions"`
	Additional   jsontypes.Normalized `tfsdk:"additional"`
	CreatedItems jsontypes.Normalized `tfsdk:"created_items"`
}

var (
	progressAttrTypes = map[string]attr.Type{
		"action":  types.StringType,
		"step":    types.Int64Type,
		"section": types.StringType,
	}
	messageAttrTypes = map[string]attr.Type{
		"code":    types.StringType,
		"message": types.StringType,
		"type":    types.StringType,
	}
)

// importStatusAttributes is the schema of importStatusModel, written once in
// data source terms; the resource converts it with recordedAttribute.
func importStatusAttributes() map[string]schema.Attribute {
	messageList := func(kind, what string) schema.ListNestedAttribute {
		return schema.ListNestedAttribute{
			MarkdownDescription: fmt.Sprintf("The %s the import recorded, in the portal's order: %s. Empty when there are none.", kind, what),
			Computed:            true,
			NestedObject: schema.NestedAttributeObject{
				Attributes: map[string]schema.Attribute{
					"code":    schema.StringAttribute{Computed: true, MarkdownDescription: "Code of the message; an empty string (never null) when the portal gave none, which is often."},
					"message": schema.StringAttribute{Computed: true, MarkdownDescription: "Text of the message, as the portal wrote it."},
					"type":    schema.StringAttribute{Computed: true, MarkdownDescription: "`notice`, `error` or `exception`."},
				},
			},
		}
	}

	return map[string]schema.Attribute{
		"id": schema.StringAttribute{
			MarkdownDescription: "The process id.",
			Computed:            true,
		},
		"status": schema.StringAttribute{
			MarkdownDescription: "The status letter as the portal sent it: `S` registered, not started yet; `P` running; " +
				"`F` finished; `E` failed; `U` unknown (a wrong id, or an import whose data the portal has " +
				"purged).",
			Computed: true,
		},
		"state": schema.StringAttribute{
			MarkdownDescription: "The status in words: `started`, `processing`, `finished`, `failed` or `unknown` " +
				"(also for a letter this provider does not know).",
			Computed: true,
		},
		"finished": schema.BoolAttribute{
			MarkdownDescription: "Whether the import has finished successfully (status `F`).",
			Computed:            true,
		},
		"progress": schema.SingleNestedAttribute{
			MarkdownDescription: "Where a running (`P`) or failed (`E`) import is; null otherwise.",
			Computed:            true,
			Attributes: map[string]schema.Attribute{
				"action": schema.StringAttribute{
					MarkdownDescription: "The agent's step: `start`, `init_background`, `manifest`, `clean`, `load` " +
						"or `finish`. For a running import it is the step the agent runs next, for a failed one the " +
						"step that failed. Empty in the minute after the last step ran and before the portal marks " +
						"the import finished (the portal sends `false`).",
					Computed: true,
				},
				"step":    schema.Int64Attribute{Computed: true, MarkdownDescription: "The step number within the action."},
				"section": schema.StringAttribute{Computed: true, MarkdownDescription: "The entity section being worked on, such as `CRM_STATUS`; empty for actions without one."},
			},
		},
		"notices":    messageList("notices", "information about the import"),
		"errors":     messageList("errors", "problems the import went on after"),
		"exceptions": messageList("exceptions", "what stopped a failed import"),
		"additional": schema.StringAttribute{
			MarkdownDescription: "Additional data of a finished import, as a JSON object: `{}` when there is none, " +
				"also before the import finishes, so that `jsondecode(...)[\"KEY\"]` always reads an object.",
			CustomType: jsontypes.NormalizedType{},
			Computed:   true,
		},
		"created_items": schema.StringAttribute{
			MarkdownDescription: "What a finished import created (the portal's `createItemList`), as a JSON array: `[]` " +
				"when there is nothing, also before the import finishes.",
			CustomType: jsontypes.NormalizedType{},
			Computed:   true,
		},
	}
}

// setStatus fills m in from s. Its values are built here, of the schema's
// types: the framework's Must constructors cannot fail on them.
func (m *importStatusModel) setStatus(s *bitrix24.ImportStatus) {
	m.ID = types.StringValue(strconv.FormatInt(s.ProcessID, 10))
	m.Status = types.StringValue(s.Status)
	m.State = types.StringValue(s.State())
	m.Finished = types.BoolValue(s.Finished())

	m.Progress = types.ObjectNull(progressAttrTypes)
	if p := s.Progress; p != nil {
		m.Progress = types.ObjectValueMust(progressAttrTypes, map[string]attr.Value{
			"action":  types.StringValue(p.Action),
			"step":    types.Int64Value(p.Step),
			"section": types.StringValue(p.Section),
		})
	}
	m.Notices = messageList(s.Notices)
	m.Errors = messageList(s.Errors)
	m.Exceptions = messageList(s.Exceptions)
	m.Additional = jsontypes.NewNormalizedValue(string(s.Additional))     // always an object
	m.CreatedItems = jsontypes.NewNormalizedValue(string(s.CreatedItems)) // always a list
}

func messageList(messages []bitrix24.ImportMessage) types.List {
	elements := make([]attr.Value, len(messages))
	for i, msg := range messages {
		elements[i] = types.ObjectValueMust(messageAttrTypes, map[string]attr.Value{
			"code":    types.StringValue(msg.Code),
			"message": types.StringValue(msg.Message),
			"type":    types.StringValue(msg.Type),
		})
	}
	return types.ListValueMust(types.ObjectType{AttrTypes: messageAttrTypes}, elements)
}
