// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// The `wait` and `timeouts` blocks, one schema and one reading of each for
// every waiter. They are blocks, not nested attributes, because Terraform
// checks the keys of a block but silently drops unknown keys of an object
// value (hashicorp/terraform#33570): a misspelt `fail_on_eror` would fall
// back to the default.

const (
	// defaultPollInterval is the pace of the portal's agent, which advances
	// an import at most once a minute.
	defaultPollInterval = time.Minute
	minPollInterval     = time.Second
)

type waitModel struct {
	PollInterval  types.String `tfsdk:"poll_interval"`
	FailOnError   types.Bool   `tfsdk:"fail_on_error"`
	FailOnUnknown types.Bool   `tfsdk:"fail_on_unknown"`
}

var waitAttrTypes = map[string]attr.Type{
	"poll_interval":   types.StringType,
	"fail_on_error":   types.BoolType,
	"fail_on_unknown": types.BoolType,
}

// waitBlock is the schema of `wait`, in data source terms: Optional string
// and bool settings only, so that the resource's and the action's schema
// packages convert it without loss (TestWaitBlock_convertibleSettings).
// description says what `wait` means to its owner.
func waitBlock(description string) schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: description,
		Attributes: map[string]schema.Attribute{
			"poll_interval": schema.StringAttribute{
				MarkdownDescription: "Nominal time between two polls, a duration such as `1m` or `90s` (default `1m`, " +
					"as the portal's agent advances an import at most one step a minute; values down to `1s` are " +
					"accepted with a warning). Once the import has moved, each poll shifts by a few seconds to come " +
					"just after the agent's next step falls due (on a quiet portal that poll starts the step), short " +
					"follow-ups only look for a step that ends the import, and an agent that runs less often (cron " +
					"every 5 minutes) gets fewer polls.",
				Optional:   true,
				Validators: []validator.String{durationValidator(minPollInterval)},
			},
			"fail_on_error": schema.BoolAttribute{
				MarkdownDescription: "When the import fails (status `E`), fail the run. Set to `false` to record " +
					"the failure instead, with a warning, and let the configuration branch on `status` or `finished`. " +
					"Defaults to `true`.",
				Optional: true,
			},
			"fail_on_unknown": schema.BoolAttribute{
				MarkdownDescription: "When the portal does not know the process (status `U`: a wrong id, or " +
					"an import whose data the portal has purged), fail. Set to `false` to record " +
					"the state with a warning instead. Defaults to `true`.",
				Optional: true,
			},
		},
	}
}

// waitSettings is the wait block with its defaults filled in.
type waitSettings struct {
	pollInterval       time.Duration
	configuredInterval time.Duration // 0 when left out; what warn judges
	failOnError        bool
	failOnUnknown      bool
}

var pollIntervalPath = path.Root("wait").AtName("poll_interval")

// readWaitSettings reads a wait block; override, when set, replaces the
// poll interval (a test's). configured is false when the block is absent or
// unknown: the data source then reads once, the others wait with defaults.
func readWaitSettings(ctx context.Context, obj types.Object, override time.Duration) (settings waitSettings, configured bool, diags diag.Diagnostics) {
	var m waitModel // all null: every default
	if configured = !obj.IsNull() && !obj.IsUnknown(); configured {
		diags = obj.As(ctx, &m, basetypes.ObjectAsOptions{})
		if diags.HasError() {
			return settings, configured, diags
		}
	}
	settings = waitSettings{
		pollInterval:  defaultPollInterval,
		failOnError:   m.FailOnError.IsNull() || m.FailOnError.ValueBool(),
		failOnUnknown: m.FailOnUnknown.IsNull() || m.FailOnUnknown.ValueBool(),
	}
	if !m.PollInterval.IsNull() && !m.PollInterval.IsUnknown() { // validated already, unless it was unknown then
		interval := parseDuration(pollIntervalPath, m.PollInterval.ValueString(), minPollInterval, &diags)
		settings.pollInterval, settings.configuredInterval = interval, interval
	}
	if override > 0 {
		settings.pollInterval = override
	}
	return settings, configured, diags
}

// warn adds the warnings about a poll interval that only costs requests:
// shorter than the portal's pace, or longer than the timeout at timeoutAt.
// The wait gives them, not validation: that runs on every plan, also for a
// resource that will never poll again.
func (s waitSettings) warn(timeout time.Duration, timeoutAt path.Path, diags *diag.Diagnostics) {
	interval := s.configuredInterval
	switch {
	case interval == 0: // left out: the default is the portal's pace
	case interval < defaultPollInterval:
		diags.AddAttributeWarning(pollIntervalPath, "Polling more often than the portal changes",
			fmt.Sprintf("wait.poll_interval is %s, shorter than %s: the portal's agent advances an import at most "+
				"once a minute, so this wait only sends more requests against the portal's rate limit. Leave "+
				"poll_interval out (it defaults to %s) unless the portal's agent really runs faster.",
				interval, defaultPollInterval, defaultPollInterval))
	case interval > timeout:
		diags.AddAttributeWarning(pollIntervalPath, "Poll interval longer than the timeout",
			fmt.Sprintf("wait.poll_interval (%s) is longer than %s (%s), so this wait polls only at its start and "+
				"once more just before its deadline. Shorten wait.poll_interval or raise %s.",
				interval, timeoutAt, timeout, timeoutAt))
	}
}

const (
	defaultWaitTimeout = 60 * time.Minute
	// minTimeout is the shortest timeout a wait can get an answer within.
	minTimeout = time.Second
)

// timeoutValidators check every timeout setting.
var timeoutValidators = []validator.String{durationValidator(minTimeout)}

// timeoutsBlock is a `timeouts` block of the one setting name, in data
// source terms.
func timeoutsBlock(name, description string) schema.SingleNestedBlock {
	return schema.SingleNestedBlock{Attributes: map[string]schema.Attribute{
		name: schema.StringAttribute{Optional: true, MarkdownDescription: description, Validators: timeoutValidators},
	}}
}

// timeoutSetting is the setting that bounds a wait, and where it is.
type timeoutSetting struct {
	value types.String
	at    path.Path
}

// timeoutIn is the setting name of a timeouts block (null when left out).
func timeoutIn(block types.Object, name string) timeoutSetting {
	value, _ := block.Attributes()[name].(types.String) // the zero value is null
	return timeoutSetting{value: value, at: path.Root("timeouts").AtName(name)}
}

func (t timeoutSetting) duration(diags *diag.Diagnostics) time.Duration {
	if t.value.IsNull() || t.value.IsUnknown() {
		return defaultWaitTimeout
	}
	return parseDuration(t.at, t.value.ValueString(), minTimeout, diags)
}
