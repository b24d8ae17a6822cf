// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// clockTick is USER_HZ, the unit of utime/stime in /proc/<pid>/stat; it is
// 100 on every Linux architecture Debian ships.
const clockTick = 100

// cpuSeconds is a process's user+system CPU time so far, all threads.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTick
}

// ownCPUSeconds is this process's user+system CPU time so far: the load
// generator and the receiver both run in it.
func ownCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// tree is pid and its descendants (omprog's helper, a shell in between).
func tree(pid int) []int {
	out := []int{pid}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, c := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(c); err == nil {
				out = append(out, tree(n)...)
			}
		}
	}
	return out
}

// usage is the CPU and peak memory of a process tree.
type usage struct {
	cpu map[int]float64
	rss map[int]int64
}

func sample(root int) usage {
	u := usage{cpu: map[int]float64{}, rss: map[int]int64{}}
	for _, p := range tree(root) {
		u.cpu[p] = cpuSeconds(p)
		u.rss[p] = rsyslogtest.ProcStatusBytes(p, "VmHWM") // high-water mark
	}
	return u
}

// cpuSince is the tree's CPU seconds between before and now; processes
// born since count from zero.
func (now usage) cpuSince(before usage) float64 {
	var sum float64
	for p, c := range now.cpu {
		sum += c - before.cpu[p]
	}
	return sum
}

func (now usage) peakRSS() int64 {
	var sum int64
	for _, r := range now.rss {
		sum += r
	}
	return sum
}
