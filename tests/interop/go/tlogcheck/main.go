// Command tlogcheck checks bias-ledger format-2 logs with Go's reference implementations,
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, which share no code with ours.
//
//	tlogcheck checkpoint VKEY FILE     signed note opens with the verifier key
//	tlogcheck inclusion FILE           'proof inclusion --json' output passes tlog.CheckRecord
//	tlogcheck consistency FILE         'proof consistency --json' output passes tlog.CheckTree
//	tlogcheck tiles VKEY DIR           every tile and entry of a published log, via TileHashReader
//
// It prints "ok ..." and exits 0, or prints the error and exits 1.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

func fail(err error) {
	fmt.Println("error:", err)
	os.Exit(1)
}

func hash(b64 string) tlog.Hash {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != tlog.HashSize {
		fail(fmt.Errorf("bad hash %q", b64))
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

func hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = hash(s)
	}
	return out
}

// openCheckpoint verifies the note and parses the C2SP checkpoint body.
func openCheckpoint(vkey string, msg []byte) (string, int64, tlog.Hash) {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail(err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail(err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		fail(errors.New("checkpoint body has fewer than 3 lines"))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		fail(fmt.Errorf("bad tree size %q", lines[1]))
	}
	if lines[0] != verifier.Name() {
		fail(fmt.Errorf("origin %q is not the key name %q", lines[0], verifier.Name()))
	}
	return lines[0], size, hash(lines[2])
}

type dirTiles struct{ root string }

func (d dirTiles) Height() int { return height }

// C2SP tlog-tiles paths are Go's without the height element: tile/<L>/<N>[.p/<W>].
func c2spPath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", height))
}

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(d.root, c2spPath(t)))
		if err != nil {
			full := t
			full.W = 1 << height
			data, err = os.ReadFile(filepath.Join(d.root, c2spPath(full)))
			if err != nil {
				return nil, err
			}
			if len(data) < t.W*tlog.HashSize {
				return nil, fmt.Errorf("%s: short tile", c2spPath(t))
			}
			data = data[:t.W*tlog.HashSize]
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func bundleEntries(data []byte) [][]byte {
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			fail(errors.New("entry bundle ends in a length prefix"))
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			fail(errors.New("entry bundle truncated"))
		}
		entries = append(entries, data[2:2+n])
		data = data[2+n:]
	}
	return entries
}

func checkTiles(vkey, dir string) {
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		fail(err)
	}
	origin, size, root := openCheckpoint(vkey, msg)
	tree := tlog.Tree{N: size, Hash: root}
	reader := tlog.TileHashReader(tree, dirTiles{dir})
	got, err := tlog.TreeHash(size, reader)
	if err != nil {
		fail(err)
	}
	if got != root {
		fail(fmt.Errorf("tree hash %v, checkpoint says %v", got, root))
	}
	for start := int64(0); start < size; start += 1 << height {
		width := size - start
		if width > 1<<height {
			width = 1 << height
		}
		tile := tlog.Tile{H: height, L: -1, N: start >> height, W: int(width)}
		data, err := os.ReadFile(filepath.Join(dir, strings.Replace(c2spPath(tile), "/data/", "/entries/", 1)))
		if err != nil {
			fail(err)
		}
		entries := bundleEntries(data)
		if int64(len(entries)) != width {
			fail(fmt.Errorf("entry bundle %d holds %d entries, expected %d", tile.N, len(entries), width))
		}
		for i, entry := range entries {
			index := start + int64(i)
			stored, err := reader.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
			if err != nil {
				fail(err)
			}
			if tlog.RecordHash(entry) != stored[0] {
				fail(fmt.Errorf("entry %d does not hash to its leaf in the tiles", index))
			}
			proof, err := tlog.ProveRecord(size, index, reader)
			if err != nil {
				fail(err)
			}
			if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(entry)); err != nil {
				fail(err)
			}
		}
	}
	level0 := tlog.Tile{H: height, L: 0, N: 0, W: int(min(size, 1<<height))}
	data, err := tlog.ReadTileData(level0, reader)
	if err != nil {
		fail(err)
	}
	if _, err := tlog.HashFromTile(level0, data, tlog.StoredHashIndex(0, 0)); err != nil {
		fail(err)
	}
	fmt.Printf("ok tiles %s %d %v\n", origin, size, root)
}

func min(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

type proofFile struct {
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	Entry    string   `json:"entry"`
	LeafHash string   `json:"leaf_hash"`
	RootHash string   `json:"root_hash"`
	OldSize  int64    `json:"old_size"`
	NewSize  int64    `json:"new_size"`
	OldRoot  string   `json:"old_root"`
	NewRoot  string   `json:"new_root"`
	Proof    []string `json:"proof"`
}

func readProof(path string) proofFile {
	data, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	var p proofFile
	if err := json.Unmarshal(data, &p); err != nil {
		fail(err)
	}
	return p
}

func main() {
	if len(os.Args) < 3 {
		fail(errors.New("usage: tlogcheck checkpoint|inclusion|consistency|tiles ..."))
	}
	switch os.Args[1] {
	case "checkpoint":
		msg, err := os.ReadFile(os.Args[3])
		if err != nil {
			fail(err)
		}
		origin, size, root := openCheckpoint(os.Args[2], msg)
		fmt.Printf("ok checkpoint %s %d %v\n", origin, size, root)
	case "inclusion":
		p := readProof(os.Args[2])
		leaf := hash(p.LeafHash)
		if p.Entry != "" {
			entry, err := base64.StdEncoding.DecodeString(p.Entry)
			if err != nil || tlog.RecordHash(entry) != leaf {
				fail(errors.New("entry does not hash to leaf_hash"))
			}
		}
		if err := tlog.CheckRecord(hashes(p.Proof), p.Size, hash(p.RootHash), p.Index, leaf); err != nil {
			fail(err)
		}
		fmt.Printf("ok inclusion %d %d\n", p.Index, p.Size)
	case "consistency":
		p := readProof(os.Args[2])
		err := tlog.CheckTree(hashes(p.Proof), p.NewSize, hash(p.NewRoot), p.OldSize, hash(p.OldRoot))
		if err != nil {
			fail(err)
		}
		fmt.Printf("ok consistency %d %d\n", p.OldSize, p.NewSize)
	case "tiles":
		checkTiles(os.Args[2], os.Args[3])
	default:
		fail(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}
