// Copyright (c) b24-terraform
// SPDX-License-Identifier: MPL-2.0

package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/b24-terraform/terraform-provider-bitrix24/internal/emulator"
)

// importLengths are the columns of the import-lengths table. The shortest
// import the portal makes has 7 runs (start, init_background, manifest,
// clean, load, finish, action false); 3 steps is one registered when the
// agent had already run 4 of them, as a wait that starts late sees it.
var importLengths = []struct {
	steps int
	imp   benchImport
}{
	{3, benchImport{script: emulator.Script{Sections: []string{"CRM_STATUS"}}, runsDone: 4}},
	{7, benchImport{script: emulator.Script{Sections: []string{"CRM_STATUS"}}}},
	{20, benchImport{script: twentySteps}},
}

// importLengthTable waits, with the wait as it is, for imports of 3, 7
// and 20 steps on each agent model: the first change is what the schedule
// learns from, so the shorter the import, the more that learning costs.
func importLengthTable() error {
	fmt.Printf("Waiting for imports of 3, 7 and 20 steps (`poll_interval = \"1m\"`, all ending F), %d imports per cell,\n", agentModelImports)
	fmt.Println("registered as in the table above. Duration: registration to F; requests: per import, and a minute over")
	fmt.Println("the whole wait; F seen: mean time from F to the wait returning.")
	fmt.Println()
	header, rule := "| agent model |", "|---|"
	for _, l := range importLengths {
		header += fmt.Sprintf(" %d steps: duration | requests | requests/min | F seen |", l.steps)
		rule += strings.Repeat("---:|", 4)
	}
	fmt.Println(header)
	fmt.Println(rule)
	for _, row := range benchAgentModels {
		line := "| " + row.name + " |"
		for _, l := range importLengths {
			outcomes, err := waitForImports(row.model, false, func(int) benchImport { return l.imp })
			if err != nil {
				return err
			}
			var durations, delays []time.Duration
			perMin, requests := 0.0, 0
			for _, o := range outcomes {
				durations = append(durations, o.duration)
				delays = append(delays, o.delay)
				perMin += o.perMin
				requests += o.requests
			}
			n := float64(len(outcomes))
			line += fmt.Sprintf(" %.2f min | %.1f | %.2f | %s |", mean(durations).Minutes(), float64(requests)/n, perMin/n, seconds(mean(delays)))
		}
		fmt.Println(line)
	}
	fmt.Println()
	return nil
}
