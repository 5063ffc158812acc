// Invoices work queue with nats.go: a work-queue stream INVOICES on
// invoices.>, a durable pull consumer invoice-processor with explicit acks.
//
//	go run ./examples/invoices-go -publish 5   # publish 5 invoices, then process
//	go run ./examples/invoices-go              # process what is queued
//
// Each invoice is acknowledged after it was "processed"; the work-queue
// stream removes it on the ack, so a second run finds nothing left. Stop it
// half-way (Ctrl-C) and the unacknowledged invoices are delivered again on
// the next run after the ack wait.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

type Invoice struct {
	ID       string  `json:"id"`
	Customer string  `json:"customer"`
	Amount   float64 `json:"amount"`
}

func main() {
	url := flag.String("s", envOr("NATS_URL", nats.DefaultURL), "server URL")
	publish := flag.Int("publish", 0, "invoices to publish before processing")
	idle := flag.Duration("idle", 2*time.Second, "stop after this long without invoices")
	flag.Parse()

	nc, err := nats.Connect(*url)
	if err != nil {
		log.Fatalf("connect %s: %v", *url, err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		log.Fatal(err)
	}
	// The stream: idempotent (same config = no error).
	if _, err := js.AddStream(&nats.StreamConfig{
		Name:      "INVOICES",
		Subjects:  []string{"invoices.>"},
		Retention: nats.WorkQueuePolicy,
	}); err != nil {
		log.Fatalf("add stream: %v", err)
	}
	for i := 1; i <= *publish; i++ {
		inv := Invoice{ID: fmt.Sprintf("INV-%04d", i), Customer: fmt.Sprintf("customer-%d", i%3), Amount: float64(i) * 12.5}
		data, _ := json.Marshal(inv)
		ack, err := js.Publish("invoices.new", data)
		if err != nil {
			log.Fatalf("publish: %v", err)
		}
		fmt.Printf("published %s as seq %d\n", inv.ID, ack.Sequence)
	}

	sub, err := js.PullSubscribe("invoices.>", "invoice-processor",
		nats.AckExplicit(), nats.AckWait(30*time.Second), nats.MaxDeliver(5))
	if err != nil {
		log.Fatalf("pull subscribe: %v", err)
	}
	processed := 0
	for {
		msgs, err := sub.Fetch(10, nats.MaxWait(*idle))
		if errors.Is(err, nats.ErrTimeout) {
			break
		}
		if err != nil {
			log.Fatalf("fetch: %v", err)
		}
		for _, m := range msgs {
			var inv Invoice
			if err := json.Unmarshal(m.Data, &inv); err != nil {
				m.Term() // a malformed invoice never gets better
				continue
			}
			meta, _ := m.Metadata()
			fmt.Printf("processing %s for %s: %.2f (delivery %d)\n", inv.ID, inv.Customer, inv.Amount, meta.NumDelivered)
			if err := m.AckSync(); err != nil {
				log.Printf("ack %s: %v", inv.ID, err)
				continue
			}
			processed++
		}
	}
	info, err := js.StreamInfo("INVOICES")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("processed %d invoices; %d left in INVOICES\n", processed, info.State.Msgs)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
