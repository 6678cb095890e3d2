// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package emulator

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// RESTImportManifests are the manifest codes that the portal's own modules
// mark importable over REST (REST_IMPORT_AVAILABLE): the landing module's
// site, store and knowledge-base exports and the ui module's masks.
// configuration.import.register refuses any other code with
// ERROR_MANIFEST_IS_NOT_AVAILABLE.
var RESTImportManifests = []string{"landing_page", "landing_store", "landing_knowledge", "ui_masks"}

// StepRef names a step of an import as configuration.import.get reports
// it in progress: an action, and optionally a section and a step number.
type StepRef struct {
	Action  string // start, init_background, manifest, clean, load or finish
	Section string // "" for any section
	Step    int    // -1 for any step
}

// stepActions are the actions a StepRef can name, in the order an import
// runs them.
var stepActions = []string{actionStart, actionInitBackground, actionManifest, actionClean, actionLoad, actionFinish}

// ParseStepRef reads ACTION[:SECTION][:STEP], e.g. load, load:1,
// clean:CRM_STATUS or load:CRM_DEAL_CATEGORY:0.
func ParseStepRef(s string) (StepRef, error) {
	parts := strings.Split(s, ":")
	ref := StepRef{Action: parts[0], Step: -1}
	if !slices.Contains(stepActions, ref.Action) {
		return StepRef{}, fmt.Errorf("unknown action %q: want %s, optionally followed by :SECTION and :STEP", ref.Action, strings.Join(stepActions, ", "))
	}
	rest := parts[1:]
	if len(rest) > 0 {
		if n, err := strconv.Atoi(rest[len(rest)-1]); err == nil {
			if n < 0 {
				return StepRef{}, fmt.Errorf("step %d: want 0 or more", n)
			}
			ref.Step, rest = n, rest[:len(rest)-1]
		}
	}
	switch {
	case len(rest) > 1:
		return StepRef{}, errors.New("want ACTION[:SECTION][:STEP], e.g. load:CRM_STATUS:1")
	case len(rest) == 1 && rest[0] == "":
		return StepRef{}, errors.New("empty section: want ACTION[:SECTION][:STEP]")
	case len(rest) == 1:
		ref.Section = rest[0]
	}
	return ref, nil
}

func (r StepRef) String() string {
	s := r.Action
	if r.Section != "" {
		s += ":" + r.Section
	}
	if r.Step >= 0 {
		s += ":" + strconv.Itoa(r.Step)
	}
	return s
}

// Failure makes an import fail at a step: the agent run that executes the
// step records an exception, as a step that throws does on the portal. The
// import then ends with status E, progress naming that step, and the
// exception in `exception` (with Config.Agent, one run later, as there).
type Failure struct {
	At      StepRef
	Code    string // often empty on the portal
	Message string
}

// scriptFailure scripts f's exception for the run that executes the first
// step f names; an import without such a step is left as it is.
func (pr *process) scriptFailure(f Failure) {
	for i, c := range pr.plan {
		if c.action != f.At.Action || (f.At.Step >= 0 && c.step != f.At.Step) {
			continue
		}
		if f.At.Section != "" && (c.section >= len(pr.sections) || pr.sections[c.section] != f.At.Section) {
			continue
		}
		pr.scripted = append(pr.scripted, ScriptedMessage{AtRun: i + 1, Type: typeException, Code: f.Code, Message: f.Message})
		return
	}
}
