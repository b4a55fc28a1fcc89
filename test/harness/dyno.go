package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Dyno is a running web process: its whole process group, its port and its
// logs. Stop it; tests do so in t.Cleanup so that a failing test stops it
// too.
type Dyno struct {
	URL     string
	Port    int
	cmd     *exec.Cmd
	logs    *lockedWriter
	done    chan struct{}
	err     error
	release func()
	// cleanup, when set, runs once the process has ended or been killed:
	// a container client killed after the grace period can leave its
	// container running, holding APP_PORT for the next dyno.
	cleanup func()
}

// appPort serialises dynos: the fixture Procfiles set APP_PORT=3000 as
// users do, so two dynos at once would fight over it. A dyno holds it from
// start to stop.
var appPort sync.Mutex

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartDyno starts cmd in its own process group and waits until something
// accepts connections on port, or the process exits, or timeout passes.
func StartDyno(cmd *exec.Cmd, port int, timeout time.Duration) (*Dyno, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	appPort.Lock()
	d := &Dyno{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Port: port, cmd: cmd, logs: &lockedWriter{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	if err := cmd.Start(); err != nil {
		appPort.Unlock()
		return nil, err
	}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	// Every path out of Stop, and a dyno that exits by itself, releases the
	// port exactly once.
	d.release = sync.OnceFunc(appPort.Unlock)
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return d, nil
		}
		select {
		case <-d.done:
			d.Stop()
			return nil, fmt.Errorf("dyno exited before it listened (%v); logs:\n%s", d.err, d.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.Stop()
			return nil, fmt.Errorf("dyno did not listen on %d within %s; logs:\n%s", port, timeout, d.logs.String())
		}
	}
}

// Logs is everything the dyno's processes wrote so far.
func (d *Dyno) Logs() string { return d.logs.String() }

// Exited reports whether the dyno's process has ended, and how.
func (d *Dyno) Exited() (bool, error) {
	select {
	case <-d.done:
		return true, d.err
	default:
		return false, nil
	}
}

// Stop signals the whole process group as Heroku does (SIGTERM to every
// process), then kills what is left after a grace period.
func (d *Dyno) Stop() {
	defer d.release()
	pgid := d.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
	}
	// What is left of the group (the app, when the mesh exited first) must
	// not hold APP_PORT for the next dyno.
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-d.done
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:3000", 100*time.Millisecond)
		if err != nil {
			return
		}
		conn.Close()
	}
	if d.cleanup != nil {
		d.cleanup()
	}
}

// WaitHealthy polls path until it answers 200: the mesh listens at once and
// answers 502 until the app behind it is up, as on a real dyno.
func (d *Dyno) WaitHealthy(ctx context.Context, path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		res, err := d.Get(ctx, path, nil)
		if err == nil && res.Code == http.StatusOK {
			return nil
		}
		if exited, werr := d.Exited(); exited {
			return fmt.Errorf("dyno exited (%v); logs:\n%s", werr, d.Logs())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within %s (last: %+v, %v); logs:\n%s", path, timeout, res, err, d.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Response is an HTTP answer from a dyno.
type Response struct {
	Code int
	Body string
}

// Get sends a request to the dyno through its public port.
func (d *Dyno) Get(ctx context.Context, path string, headers map[string]string) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+path, nil)
	if err != nil {
		return Response{}, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Code: resp.StatusCode, Body: string(b)}, err
}

var procfileLine = regexp.MustCompile(`^([A-Za-z0-9_-]+)[ \t]*:[ \t]*(.+)$`)

// ProcessCommand reads a process type's command from a Procfile.
func ProcessCommand(appDir, process string) (string, error) {
	data, err := os.ReadFile(filepath.Join(appDir, "Procfile"))
	if err != nil {
		return "", err
	}
	command := ""
	// Lines end at LF, CRLF or a lone CR; the last definition wins.
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r", "\n"), "\n") {
		if m := procfileLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil && m[1] == process {
			command = m[2]
		}
	}
	if command == "" {
		return "", errors.New("no " + process + " process in the Procfile")
	}
	return command, nil
}

// Start boots the slug's process type on a dyno, as `heroku ps:scale web=1`
// does: HOME at the slug, PORT set, config vars exported, .profile.d sourced,
// then the Procfile command run by bash.
func (a *App) Start(ctx context.Context, process string, env map[string]string) (*Dyno, error) {
	command, err := ProcessCommand(a.Slug, process)
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	vars := map[string]string{"PORT": strconv.Itoa(port), "DYNO": process + ".1"}
	for k, v := range env {
		vars[k] = v
	}
	return StartDyno(a.DynoCommand(ctx, command, vars), port, time.Minute)
}
