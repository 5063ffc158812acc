// objinterop stores or reads one Object Store object through nats.go (1.22,
// GOPATH mode), so that tests/cli/obj_test.cc can check that objects written
// by `sluice obj put` read back through nats.go and the other way round.
//
//	go run main.go <url> put <bucket> <name> <file>   prints the digest
//	go run main.go <url> get <bucket> <name> <file>   prints the digest
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: objinterop <url> put|get <bucket> <name> <file>")
		os.Exit(2)
	}
	url, mode, bucket, name, file := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
	nc, err := nats.Connect(url, nats.Timeout(10*time.Second))
	if err != nil {
		fail(err)
	}
	defer nc.Close()
	js, err := nc.JetStream(nats.MaxWait(30 * time.Second))
	if err != nil {
		fail(err)
	}
	obs, err := js.ObjectStore(bucket)
	if err != nil {
		fail(err)
	}
	switch mode {
	case "put":
		f, err := os.Open(file)
		if err != nil {
			fail(err)
		}
		defer f.Close()
		info, err := obs.Put(&nats.ObjectMeta{Name: name}, f)
		if err != nil {
			fail(err)
		}
		fmt.Println(info.Digest)
	case "get":
		if err := obs.GetFile(name, file); err != nil {
			fail(err)
		}
		info, err := obs.GetInfo(name)
		if err != nil {
			fail(err)
		}
		fmt.Println(info.Digest)
	default:
		fail(fmt.Errorf("unknown mode %q", mode))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "objinterop:", err)
	os.Exit(1)
}
