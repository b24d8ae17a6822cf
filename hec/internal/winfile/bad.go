// SPDX-License-Identifier: Apache-2.0

package winfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// WriteBad keeps data, the damaged or unusable part of the file at path,
// in a new file beside it for a human to look at: path's name with its
// ending replaced by ".bad" (".bad.2", ... when that exists). It never
// follows a symbolic link nor overwrites a file: the directory may hold
// names another user planted.
func WriteBad(path, ext string, data []byte) (string, error) {
	base := path
	if len(ext) > 0 && len(base) > len(ext) && base[len(base)-len(ext):] == ext {
		base = base[:len(base)-len(ext)]
	}
	for n := 1; n <= 99; n++ {
		name := base + ".bad"
		if n > 1 {
			name = fmt.Sprintf("%s.bad.%d", base, n)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", err
		}
		return name, nil
	}
	return "", fmt.Errorf("%s.bad and 98 more such names exist already", filepath.Base(base))
}

// OpenRegular opens path for reading only if it is a regular file and not
// a symbolic link: a window file is only ever one the module wrote.
func OpenRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, errors.New("it is a symbolic link, not a file this module wrote")
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("it is not a regular file (%s)", st.Mode().Type())
	}
	return f, nil
}
