// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// The poll interval's warnings are given by the wait that is about to run,
// once, and never at validation: validation runs on every plan, also for a
// resource created long ago that will never poll again, and a warning that
// cannot change anything teaches users to ignore warnings.

var pollIntervalPath = path.Root("wait").AtName("poll_interval")

// warn adds the warnings about a configured poll interval that only costs
// requests: shorter than the portal's pace, or longer than timeout, the
// bound of the wait, named by timeoutName (such as "timeouts.read").
func (s waitSettings) warn(timeout time.Duration, timeoutName string, diags *diag.Diagnostics) {
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
				interval, timeoutName, timeout, timeoutName))
	}
}
