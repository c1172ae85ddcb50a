// Command notetool signs and opens C2SP signed notes with Go's golang.org/x/mod/sumdb/note,
// and makes and checks cosignature/v1 lines with crypto/ed25519 alone: an implementation that
// shares no code with bias-ledger, for the interop tests in tests/witness.
//
// Build offline: GO111MODULE=off GOPATH=/usr/share/gocode go build -o notetool .
//
//	notetool genkey NAME                 prints the signer key, then the verifier key
//	notetool vkey NAME PUBLIC_B64        prints the verifier key of a raw Ed25519 public key
//	notetool sign SIGNER_KEY < text      prints the signed note
//	notetool open VKEY... < note         prints the note text, then "verified NAME+ID" lines
//	notetool cosign NAME SEED_B64 TIME < note    prints a cosignature/v1 line
//	notetool check-cosig NAME PUBLIC_B64 < note  prints the timestamp of NAME's valid cosignature
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "notetool: "+format+"\n", args...)
	os.Exit(1)
}

func stdin() []byte {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	return data
}

func decode(text string) []byte {
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		fail("bad base64 %q: %v", text, err)
	}
	return raw
}

// cosignatureKeyID is SHA-256(name || "\n" || 0x04 || public key)[:4] (tlog-cosignature).
func cosignatureKeyID(name string, public []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{0x04})
	h.Write(public)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// noteText returns the text of a signed note: everything up to the last blank line.
func noteText(msg []byte) []byte {
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 {
		fail("no blank line in note")
	}
	return msg[:split+1]
}

func cosignedMessage(text []byte, timestamp uint64) []byte {
	return append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", timestamp)), text...)
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: notetool genkey|vkey|sign|open|cosign|check-cosig ...")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "genkey":
		skey, vkey, err := note.GenerateKey(rand.Reader, args[0])
		if err != nil {
			fail("%v", err)
		}
		fmt.Printf("%s\n%s\n", skey, vkey)
	case "vkey":
		vkey, err := note.NewEd25519VerifierKey(args[0], ed25519.PublicKey(decode(args[1])))
		if err != nil {
			fail("%v", err)
		}
		fmt.Println(vkey)
	case "sign":
		signer, err := note.NewSigner(args[0])
		if err != nil {
			fail("%v", err)
		}
		msg, err := note.Sign(&note.Note{Text: string(stdin())}, signer)
		if err != nil {
			fail("%v", err)
		}
		os.Stdout.Write(msg)
	case "open":
		var verifiers []note.Verifier
		for _, vkey := range args {
			v, err := note.NewVerifier(vkey)
			if err != nil {
				fail("verifier %q: %v", vkey, err)
			}
			verifiers = append(verifiers, v)
		}
		n, err := note.Open(stdin(), note.VerifierList(verifiers...))
		if err != nil {
			fail("%v", err)
		}
		fmt.Print(n.Text)
		for _, sig := range n.Sigs {
			fmt.Printf("verified %s+%08x\n", sig.Name, sig.Hash)
		}
	case "cosign":
		seed := decode(args[1])
		timestamp, err := strconv.ParseUint(args[2], 10, 63)
		if err != nil {
			fail("bad time: %v", err)
		}
		key := ed25519.NewKeyFromSeed(seed)
		id := cosignatureKeyID(args[0], key.Public().(ed25519.PublicKey))
		sig := ed25519.Sign(key, cosignedMessage(noteText(stdin()), timestamp))
		payload := make([]byte, 12, 12+len(sig))
		binary.BigEndian.PutUint32(payload, id)
		binary.BigEndian.PutUint64(payload[4:], timestamp)
		fmt.Printf("— %s %s\n", args[0], base64.StdEncoding.EncodeToString(append(payload, sig...)))
	case "check-cosig":
		public := decode(args[1])
		id := cosignatureKeyID(args[0], public)
		msg := stdin()
		text := noteText(msg)
		for _, line := range strings.Split(strings.TrimSuffix(string(msg[len(text)+1:]), "\n"), "\n") {
			prefix := "— " + args[0] + " "
			if !strings.HasPrefix(line, prefix) {
				continue
			}
			raw := decode(strings.TrimPrefix(line, prefix))
			if len(raw) != 4+8+ed25519.SignatureSize || binary.BigEndian.Uint32(raw) != id {
				continue
			}
			timestamp := binary.BigEndian.Uint64(raw[4:])
			if !ed25519.Verify(public, cosignedMessage(text, timestamp), raw[12:]) {
				fail("invalid cosignature by %s+%08x", args[0], id)
			}
			fmt.Println(timestamp)
			return
		}
		fail("no cosignature by %s+%08x", args[0], id)
	default:
		fail("unknown command %q", os.Args[1])
	}
}
