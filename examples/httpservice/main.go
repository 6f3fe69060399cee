// Command httpservice shows correlation across HTTP services: service A
// ("orders-api") answers GET /orders/{id} and, to do so, calls service B
// ("inventory") through the logging, propagating client transport. Both
// log ECS events to standard output through pipelog's middleware; all the
// events of one request share one trace.id, and their span IDs chain:
//
//	A HTTPRequestCompleted        span.id = A's hop            parent_span_id = the caller's, if any
//	A HTTPClientRequestCompleted  span.id = the outgoing span  parent_span_id = A's hop
//	B StockChecked, HTTPRequestCompleted
//	                              span.id = B's hop            parent_span_id = the outgoing span
//
//	go run ./examples/httpservice            # start both on loopback, send one request, exit
//	go run ./examples/httpservice -serve     # keep serving until Ctrl-C; curl the printed URL
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pipelog/pipelog"
	logctx "github.com/pipelog/pipelog/context"
	"github.com/pipelog/pipelog/event"
	"github.com/pipelog/pipelog/sink"
)

// StockChecked is service B's own event.
type StockChecked struct {
	event.Base
	SKU       string `json:"sku"`
	Available int    `json:"available"`
}

// OrderPriced is service A's own event.
type OrderPriced struct {
	event.Base
	OrderID   string `json:"order_id"`
	Available int    `json:"available"`
}

// serviceB answers GET /stock/{sku} with a JSON stock level.
func serviceB(log *pipelog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stock/{sku}", func(w http.ResponseWriter, r *http.Request) {
		sku := r.PathValue("sku")
		n := len(sku) * 7 % 50 // a deterministic stand-in for a database
		pipelog.Emit(r.Context(), log, StockChecked{Base: event.Info("stock checked"), SKU: sku, Available: n})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int{"available": n})
	})
	return log.Middleware(pipelog.MiddlewareConfig{})(mux)
}

// serviceA answers GET /orders/{id}, asking B for the stock.
func serviceA(log *pipelog.Logger, bURL string) http.Handler {
	client := &http.Client{Transport: log.Transport(nil), Timeout: 5 * time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, bURL+"/stock/sku-"+id, nil)
		if err != nil {
			http.Error(w, "bad order id", http.StatusBadRequest)
			return
		}
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, "inventory unavailable", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var stock struct{ Available int }
		if err := json.NewDecoder(resp.Body).Decode(&stock); err != nil {
			http.Error(w, "inventory answered nonsense", http.StatusBadGateway)
			return
		}
		pipelog.Emit(r.Context(), log, OrderPriced{Base: event.Info("order priced"), OrderID: id, Available: stock.Available})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"order": id, "available": stock.Available})
	})
	return log.Middleware(pipelog.MiddlewareConfig{})(mux)
}

// services are A and B running on loopback.
type services struct {
	AURL, BURL string
	a, b       *http.Server
	logA, logB *pipelog.Logger
	out        sink.Sink
}

// start starts B, then A pointing at B, both on 127.0.0.1:0, logging to out.
func start(out io.Writer) (*services, error) {
	s := &services{out: sink.NewWriter(out, sink.WriterConfig{})}
	var err error
	if s.logA, err = pipelog.New(pipelog.Config{Service: "orders-api", Sinks: []sink.Sink{s.out}}); err != nil {
		return nil, err
	}
	if s.logB, err = pipelog.New(pipelog.Config{Service: "inventory", Sinks: []sink.Sink{s.out}}); err != nil {
		return nil, err
	}
	lb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	la, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		lb.Close()
		return nil, err
	}
	s.BURL, s.AURL = "http://"+lb.Addr().String(), "http://"+la.Addr().String()
	s.b = &http.Server{Handler: serviceB(s.logB), ReadHeaderTimeout: 5 * time.Second}
	s.a = &http.Server{Handler: serviceA(s.logA, s.BURL), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.b.Serve(lb) }()
	go func() { _ = s.a.Serve(la) }()
	return s, nil
}

// stop shuts both servers down and flushes the logs.
func (s *services) stop(ctx context.Context) error {
	err := errors.Join(s.a.Shutdown(ctx), s.b.Shutdown(ctx))
	// Both loggers share one sink: the first Close flushes and closes it,
	// the second is a no-op.
	return errors.Join(err, s.logA.Close(ctx), s.logB.Close(ctx))
}

// get sends one request to A, as an outside client would (no trace headers).
func get(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s (X-Correlation-ID %s)", resp.StatusCode, body, resp.Header.Get(logctx.HeaderCorrelationID)), err
}

func main() {
	serve := flag.Bool("serve", false, "keep serving until interrupted")
	flag.Parse()
	s, err := start(os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpservice:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *serve {
		fmt.Fprintf(os.Stderr, "A: %s/orders/42  B: %s/stock/sku-42  (Ctrl-C to stop)\n", s.AURL, s.BURL)
		<-ctx.Done()
	} else {
		res, err := get(ctx, s.AURL+"/orders/42")
		if err != nil {
			fmt.Fprintln(os.Stderr, "httpservice:", err)
		} else {
			fmt.Fprintln(os.Stderr, "response:", res)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "httpservice:", err)
		os.Exit(1)
	}
}
