// estargz-check: the stargz-snapshotter's own reader as the oracle of kiln's
// eStargz blobs (src/builder/output-estargz.test.ts). It opens a blob through
// its footer, verifies the TOC against the digest given (the layer's
// containerd.io/snapshot/stargz/toc.digest annotation), then reads every
// regular file chunk by chunk through the TOC and checks each chunk's digest.
// Prints {"files": N, "chunks": M, "names": [...]} or exits 1 with the error.
//
//	estargz-check BLOB TOC-DIGEST
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/opencontainers/go-digest"
)

func check(blob string, tocDigest digest.Digest) (map[string]any, error) {
	f, err := os.Open(blob)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r, err := estargz.Open(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	v, err := r.VerifyTOC(tocDigest)
	if err != nil {
		return nil, fmt.Errorf("verify TOC: %w", err)
	}
	files, chunks := 0, 0
	names := []string{}
	var walk func(dir string, e *estargz.TOCEntry) error
	walk = func(dir string, e *estargz.TOCEntry) error {
		var werr error
		e.ForeachChild(func(base string, ent *estargz.TOCEntry) bool {
			name := path.Join(dir, base)
			names = append(names, name)
			if ent.Type == "dir" {
				werr = walk(name, ent)
				return werr == nil
			}
			if ent.Type != "reg" || ent.Size == 0 {
				return true
			}
			files++
			sr, err := r.OpenFile(name)
			if err != nil {
				werr = fmt.Errorf("%s: %w", name, err)
				return false
			}
			for off := int64(0); off < ent.Size; {
				ce, ok := r.ChunkEntryForOffset(name, off)
				if !ok {
					werr = fmt.Errorf("%s: no chunk at %d", name, off)
					return false
				}
				dv, err := v.Verifier(ce)
				if err != nil {
					werr = fmt.Errorf("%s@%d: %w", name, off, err)
					return false
				}
				size := ce.ChunkSize
				if size == 0 {
					size = ent.Size - ce.ChunkOffset
				}
				if _, err := io.Copy(dv, io.NewSectionReader(sr, ce.ChunkOffset, size)); err != nil {
					werr = fmt.Errorf("%s@%d: %w", name, off, err)
					return false
				}
				if !dv.Verified() {
					werr = fmt.Errorf("%s@%d: chunk digest mismatch", name, off)
					return false
				}
				chunks++
				off = ce.ChunkOffset + size
			}
			return true
		})
		return werr
	}
	root, ok := r.Lookup("")
	if !ok {
		return nil, fmt.Errorf("no root entry")
	}
	if err := walk("", root); err != nil {
		return nil, err
	}
	return map[string]any{"files": files, "chunks": chunks, "names": names}, nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: estargz-check BLOB TOC-DIGEST")
		os.Exit(2)
	}
	out, err := check(os.Args[1], digest.Digest(os.Args[2]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "estargz-check:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
