// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

const (
	// defaultPollInterval matches the portal's agent, which advances an
	// import at most once a minute: polling faster tells nothing new.
	defaultPollInterval = time.Minute
	minPollInterval     = time.Second
	// defaultReadTimeout covers a typical import; the docs give the rule of
	// thumb for larger ones.
	defaultReadTimeout = 60 * time.Minute
)

var (
	_ datasource.DataSource                   = (*configurationImportDataSource)(nil)
	_ datasource.DataSourceWithConfigure      = (*configurationImportDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*configurationImportDataSource)(nil)
)

type configurationImportDataSource struct {
	provider *providerData
}

func newConfigurationImportDataSource() datasource.DataSource {
	return &configurationImportDataSource{}
}

type configurationImportModel struct {
	ProcessID    types.String         `tfsdk:"process_id"`
	Wait         types.Object         `tfsdk:"wait"`
	Timeouts     timeouts.Value       `tfsdk:"timeouts"`
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

type waitModel struct {
	PollInterval  types.String `tfsdk:"poll_interval"`
	FailOnError   types.Bool   `tfsdk:"fail_on_error"`
	FailOnUnknown types.Bool   `tfsdk:"fail_on_unknown"`
}

type progressModel struct {
	Action  types.String `tfsdk:"action"`
	Step    types.Int64  `tfsdk:"step"`
	Section types.String `tfsdk:"section"`
}

type messageModel struct {
	Code    types.String `tfsdk:"code"`
	Message types.String `tfsdk:"message"`
	Type    types.String `tfsdk:"type"`
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
	messageObjectType = types.ObjectType{AttrTypes: messageAttrTypes}
)

func (d *configurationImportDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_configuration_import"
}

func (d *configurationImportDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	messageList := func(kind, what string) schema.ListNestedAttribute {
		return schema.ListNestedAttribute{
			MarkdownDescription: fmt.Sprintf("The %s the import recorded, in the portal's order: %s. Empty when there are none.", kind, what),
			Computed:            true,
			NestedObject: schema.NestedAttributeObject{
				Attributes: map[string]schema.Attribute{
					"code":    schema.StringAttribute{Computed: true, MarkdownDescription: "Code of the message; often empty."},
					"message": schema.StringAttribute{Computed: true, MarkdownDescription: "Text of the message, as the portal wrote it."},
					"type":    schema.StringAttribute{Computed: true, MarkdownDescription: "`notice`, `error` or `exception`."},
				},
			},
		}
	}

	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads the status of one configuration import of a Bitrix24 portal, the background " +
			"process that `configuration.import.register` starts, through `configuration.import.get`. " +
			"With `wait`, the read polls until the import has finished, so that anything depending on this " +
			"data source waits for the import, and fails when the import fails.",
		Attributes: map[string]schema.Attribute{
			"process_id": schema.StringAttribute{
				MarkdownDescription: "The `processId` that `configuration.import.register` returned: a positive whole " +
					"number. A number works too: `process_id = 42`.",
				Required:   true,
				Validators: []validator.String{processIDValidator{}},
			},
			"wait": schema.SingleNestedAttribute{
				MarkdownDescription: "Wait until the import has finished. Without it the data source reads the status " +
					"once and never fails because of it. With it, the read polls the portal until the status is `F` " +
					"(finished), `E` (failed) or `U` (unknown), within `timeouts.read`. The first poll is immediate, so " +
					"a finished import costs a single request, also during the refresh that precedes `terraform destroy`.",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"poll_interval": schema.StringAttribute{
						MarkdownDescription: "Time between two polls, a duration such as `1m` or `90s`. Defaults to `1m`: " +
							"the portal's agent advances an import one step a minute, so polling more often tells " +
							"nothing new. Values down to `1s` are accepted with a warning.",
						Optional: true,
						Validators: []validator.String{durationValidator{
							min:     minPollInterval,
							advised: defaultPollInterval,
							advice:  "The portal's agent advances an import at most once a minute, so shorter intervals only add requests against the portal's rate limit.",
						}},
					},
					"fail_on_error": schema.BoolAttribute{
						MarkdownDescription: "When the import fails (status `E`), fail the read with the portal's " +
							"exception and error messages. Set to `false` to record the failed state instead, with a " +
							"warning, and let the configuration branch on `status`. Defaults to `true`.",
						Optional: true,
					},
					"fail_on_unknown": schema.BoolAttribute{
						MarkdownDescription: "When the portal does not know the process (status `U`: a wrong id, or " +
							"data purged 3 days after the import), fail the read. Set to `false` to record the state " +
							"with a warning instead. Defaults to `true`.",
						Optional: true,
					},
				},
			},
			"timeouts": readTimeoutAttribute(ctx, "How long the read may take, a duration such as `30m` or `2h`; "+
				"defaults to `60m`. With `wait`, this bounds the whole wait, retries included: an import takes about "+
				"5 + 2 × sections + files minutes."),
			"id": schema.StringAttribute{
				MarkdownDescription: "The process id.",
				Computed:            true,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "The status letter as the portal sent it: `S` registered, not started yet; `P` running; " +
					"`F` finished; `E` failed; `U` unknown (a wrong id, or data the portal purged: it keeps an " +
					"import's data for 3 days).",
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
				MarkdownDescription: "Additional data of a finished import, as normalized JSON; null until the import finishes.",
				CustomType:          jsontypes.NormalizedType{},
				Computed:            true,
			},
			"created_items": schema.StringAttribute{
				MarkdownDescription: "The portal's `createItemList` of a finished import, as normalized JSON; null until the import finishes.",
				CustomType:          jsontypes.NormalizedType{},
				Computed:            true,
			},
		},
	}
}

func (d *configurationImportDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", req.ProviderData))
		return
	}
	d.provider = data
}

// ValidateConfig warns about a wait.poll_interval longer than timeouts.read:
// such a wait polls at the start and once more just before its deadline.
func (d *configurationImportDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var interval, read types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("wait").AtName("poll_interval"), &interval)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("timeouts").AtName("read"), &read)...)
	if resp.Diagnostics.HasError() || interval.IsNull() || interval.IsUnknown() || read.IsUnknown() {
		return
	}
	pollEvery, err := time.ParseDuration(interval.ValueString())
	if err != nil {
		return // the attribute's validator reports it
	}
	timeout := defaultReadTimeout
	if !read.IsNull() {
		if timeout, err = time.ParseDuration(read.ValueString()); err != nil {
			return
		}
	}
	if pollEvery > timeout {
		resp.Diagnostics.AddAttributeWarning(path.Root("wait").AtName("poll_interval"), "Poll interval longer than the read timeout",
			fmt.Sprintf("wait.poll_interval (%s) is longer than timeouts.read (%s), so the wait polls only at its start and once "+
				"more just before its deadline. Shorten wait.poll_interval or raise timeouts.read.", pollEvery, timeout))
	}
}

func (d *configurationImportDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.provider == nil {
		resp.Diagnostics.AddError("Provider not configured",
			"The provider was not configured before the data source was read. This is a bug in the provider; please report it.")
		return
	}
	ctx = maskSecrets(ctx, d.provider.secrets)

	var config configurationImportModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	processID, err := parseProcessID(config.ProcessID.ValueString())
	if err != nil { // validated already, unless it was unknown then
		resp.Diagnostics.AddAttributeError(path.Root("process_id"), "Invalid process id", processIDProblem(err))
		return
	}

	readTimeout, diags := config.Timeouts.Read(ctx, defaultReadTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()

	wait, diags := d.waitSettings(ctx, config.Wait)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	var status *bitrix24.ImportStatus
	if wait == nil {
		status, err = d.provider.client.ConfigurationImport.Get(ctx, processID)
	} else {
		status, err = d.provider.client.ConfigurationImport.Wait(ctx, processID, bitrix24.WaitOptions{
			PollInterval: wait.pollInterval,
			OnPoll:       func(e bitrix24.PollEvent) { logPoll(ctx, e) },
			OnPollError:  func(e bitrix24.PollErrorEvent) { logPollError(ctx, e) },
		})
	}
	if err != nil {
		addClientError(&resp.Diagnostics, processID, err)
		return
	}

	if wait != nil {
		if failure := bitrix24.ImportFailure(status); failure != nil {
			fatal := (status.Status == bitrix24.StatusFailed && wait.failOnError) ||
				(status.Status == bitrix24.StatusUnknown && wait.failOnUnknown)
			summary := "Configuration import failed"
			if status.Status == bitrix24.StatusUnknown {
				summary = "Configuration import unknown to the portal"
			}
			if fatal {
				resp.Diagnostics.AddError(summary, failure.Error())
				return
			}
			resp.Diagnostics.AddWarning(summary, failure.Error()+
				"\n\nThe state is recorded because the wait settings do not fail on it.")
		}
	}

	state := config
	resp.Diagnostics.Append(state.setStatus(ctx, processID, status)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// waitSettings is the wait attribute with its defaults filled in; nil when
// the configuration does not wait.
type waitSettings struct {
	pollInterval  time.Duration
	failOnError   bool
	failOnUnknown bool
}

func (d *configurationImportDataSource) waitSettings(ctx context.Context, obj types.Object) (*waitSettings, diag.Diagnostics) {
	if obj.IsNull() || obj.IsUnknown() {
		return nil, nil
	}
	var m waitModel
	diags := obj.As(ctx, &m, basetypes.ObjectAsOptions{})
	if diags.HasError() {
		return nil, diags
	}
	w := &waitSettings{
		pollInterval:  defaultPollInterval,
		failOnError:   m.FailOnError.IsNull() || m.FailOnError.ValueBool(),
		failOnUnknown: m.FailOnUnknown.IsNull() || m.FailOnUnknown.ValueBool(),
	}
	if !m.PollInterval.IsNull() {
		interval, err := time.ParseDuration(m.PollInterval.ValueString())
		if err != nil || interval < minPollInterval { // validated already, unless it was unknown then
			diags.AddAttributeError(path.Root("wait").AtName("poll_interval"), "Invalid poll interval",
				fmt.Sprintf("wait.poll_interval must be a duration of at least %s, such as \"1m\"; got %q.",
					minPollInterval, m.PollInterval.ValueString()))
			return nil, diags
		}
		w.pollInterval = interval
	}
	if d.provider.pollIntervalOverride > 0 {
		w.pollInterval = d.provider.pollIntervalOverride
	}
	return w, diags
}

func (m *configurationImportModel) setStatus(ctx context.Context, processID int64, s *bitrix24.ImportStatus) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(strconv.FormatInt(processID, 10))
	m.Status = types.StringValue(s.Status)
	m.State = types.StringValue(s.State())
	m.Finished = types.BoolValue(s.Finished())

	m.Progress = types.ObjectNull(progressAttrTypes)
	if s.Progress != nil {
		var d diag.Diagnostics
		m.Progress, d = types.ObjectValueFrom(ctx, progressAttrTypes, progressModel{
			Action:  types.StringValue(s.Progress.Action),
			Step:    types.Int64Value(s.Progress.Step),
			Section: types.StringValue(s.Progress.Section),
		})
		diags.Append(d...)
	}

	var d diag.Diagnostics
	m.Notices, d = messageList(ctx, s.Notices)
	diags.Append(d...)
	m.Errors, d = messageList(ctx, s.Errors)
	diags.Append(d...)
	m.Exceptions, d = messageList(ctx, s.Exceptions)
	diags.Append(d...)

	m.Additional = jsonValue(s.Additional)
	m.CreatedItems = jsonValue(s.CreatedItems)
	return diags
}

func messageList(ctx context.Context, messages []bitrix24.ImportMessage) (types.List, diag.Diagnostics) {
	models := make([]messageModel, len(messages))
	for i, msg := range messages {
		models[i] = messageModel{
			Code:    types.StringValue(msg.Code),
			Message: types.StringValue(msg.Message),
			Type:    types.StringValue(msg.Type),
		}
	}
	return types.ListValueFrom(ctx, messageObjectType, models)
}

func jsonValue(raw []byte) jsontypes.Normalized {
	if raw == nil {
		return jsontypes.NewNormalizedNull()
	}
	return jsontypes.NewNormalizedValue(string(raw))
}

// addClientError turns a client error into a diagnostic whose summary says
// what kind of failure it was, and whose detail says what to do.
func addClientError(diags *diag.Diagnostics, processID int64, err error) {
	var (
		waitErr  *bitrix24.WaitError
		limitErr *bitrix24.RateLimitError
		apiErr   *bitrix24.Error
	)
	switch {
	case errors.As(err, &waitErr) && waitErr.Cancelled:
		diags.AddError("Waiting for the configuration import was cancelled", err.Error())
	case errors.As(err, &waitErr):
		diags.AddError("Timed out waiting for the configuration import", err.Error()+
			"\n\nRaise timeouts.read if the import is still making progress: an import takes about "+
			"5 + 2 × sections + files minutes.")
	case bitrix24.IsAuthError(err):
		diags.AddError("Bitrix24 refused the credentials", err.Error()+
			"\n\nCheck that webhook_url (or "+envWebhookURL+") is the URL of an active incoming webhook "+
			"with the configuration.import scope.")
	case bitrix24.IsCertificateError(err):
		diags.AddError("Bitrix24 portal certificate not trusted", err.Error()+
			"\n\nIf the portal's certificate comes from an internal CA, as on-premise portals' often do, set the "+
			"provider's ca_cert_pem (or "+envCACertPEM+") to that CA's PEM certificate. Verification cannot be switched off.")
	case bitrix24.IsUnreachable(err):
		diags.AddError("Bitrix24 portal unreachable", err.Error()+
			"\n\nNothing answered at the portal's address. Check the host and port in webhook_url (or "+envWebhookURL+").")
	case errors.As(err, &limitErr):
		diags.AddError("Client-side rate limit reached before the read's deadline", err.Error()+
			"\n\nMany reads share the provider's rate_limit. Raise timeouts.read, or rate_limit and rate_burst "+
			"if the portal's plan allows more (Enterprise: 5 and 250).")
	case errors.As(err, &apiErr) && apiErr.HasCode(bitrix24.ErrorCodeOperationTimeLimit):
		diags.AddError("Bitrix24 method time limit reached", err.Error()+
			"\n\nThe portal blocks a method for the rest of its 10-minute window once calls of it used up their "+
			"execution time. Run again after the time given, or raise timeouts.read so that the provider waits for it.")
	default:
		diags.AddError(fmt.Sprintf("Unable to read configuration import %d", processID), err.Error())
	}
}
