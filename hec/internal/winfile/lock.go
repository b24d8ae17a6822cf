// SPDX-License-Identifier: Apache-2.0

package winfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Lock is one process's hold on the files of one prefix in a directory:
// an flock(2) on prefix.lock, which the kernel drops when the process
// ends however it ends, so that a crash never leaves a stale lock. Two
// rsyslogd sharing a directory (a container volume mounted twice) would
// otherwise send and delete each other's files.
type Lock struct {
	f *os.File
}

// HeldError says another live process holds the lock.
type HeldError struct {
	Path string
	PID  int // 0 when the lock file names none
}

func (e *HeldError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = fmt.Sprintf("another process (pid %d)", e.PID)
	}
	return fmt.Sprintf("%s holds %s", who, e.Path)
}

// TakeLock takes the lock on prefix's files in dir without waiting; a
// *HeldError when another process has it.
func TakeLock(dir, prefix string) (*Lock, error) {
	path := filepath.Join(dir, prefix+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Path: path, PID: lockPID(path)}
		}
		return nil, err
	}
	// The pid is for the other process's message only; the lock is the
	// flock.
	if f.Truncate(0) == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Locked reports whether another process holds prefix's lock in dir now.
// It creates no lock file: where there is none, nobody holds one.
func Locked(dir, prefix string) bool {
	f, err := os.OpenFile(filepath.Join(dir, prefix+".lock"), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}

// Release lets another process have the files. The lock file stays:
// removing it would race with a process opening it.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

func lockPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}
