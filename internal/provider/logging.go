// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/bitrix24"
)

// tflogLogger bridges the client's logging to tflog, so that its lines show
// with TF_LOG_PROVIDER and carry the masks of the request's context.
type tflogLogger struct{}

func (tflogLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	tflog.Debug(ctx, msg, fields)
}

func (tflogLogger) Info(ctx context.Context, msg string, fields map[string]any) {
	tflog.Info(ctx, msg, fields)
}

func (tflogLogger) Warn(ctx context.Context, msg string, fields map[string]any) {
	tflog.Warn(ctx, msg, fields)
}

// progressSubsystem logs the waits' progress lines. It is a subsystem
// because it carries none of the request's fields (tf_req_id, ...), which
// Terraform prints in random order: no two runs would print a line alike.
const progressSubsystem = "progress"

// requestLogging sets up what a request logs with: the progress subsystem,
// and the secrets hidden in every line, messages and field values, by the
// client's rule (bitrix24.SecretPattern). tflog masks belong to a context,
// so each request sets them again.
func requestLogging(ctx context.Context, secrets []string) context.Context {
	ctx = tflog.NewSubsystem(ctx, progressSubsystem)
	patterns := make([]*regexp.Regexp, 0, len(secrets))
	for _, secret := range secrets {
		if p := bitrix24.SecretPattern(secret); p != nil {
			patterns = append(patterns, p)
		}
	}
	if len(patterns) == 0 {
		return ctx
	}
	ctx = tflog.SubsystemMaskLogRegexes(ctx, progressSubsystem, patterns...)
	return tflog.MaskLogRegexes(ctx, patterns...)
}

func logProgress(ctx context.Context, msg string) {
	tflog.SubsystemInfo(ctx, progressSubsystem, msg)
}

// logPoll and logPollError log each poll with its fields, at DEBUG.
func logPoll(ctx context.Context, e bitrix24.PollEvent) {
	fields := map[string]any{
		"process_id": e.ProcessID,
		"poll":       e.Poll,
		"elapsed":    e.Elapsed.Round(time.Millisecond).String(),
		"status":     e.Status.Status,
		"state":      e.Status.State(),
	}
	if p := e.Status.Progress; p != nil {
		fields["action"] = p.Action
		fields["step"] = p.Step
		fields["section"] = p.Section
	}
	tflog.Debug(ctx, "Polled configuration import", fields)
}

func logPollError(ctx context.Context, e bitrix24.PollErrorEvent) {
	tflog.Debug(ctx, "Polling configuration import failed; trying again at the next poll", map[string]any{
		"process_id": e.ProcessID,
		"poll":       e.Poll,
		"elapsed":    e.Elapsed.Round(time.Millisecond).String(),
		"error":      e.Err.Error(),
	})
}
