package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// junitSample is what the e2e framework writes (ginkgo's JUnit without the
// message attribute): a passed, a failed, a skipped spec and suite nodes.
const junitSample = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="5" disabled="1" errors="0" failures="1" time="20">
  <testsuite name="Kubernetes e2e suite" package="/" tests="5" disabled="0" skipped="1" errors="0" failures="1" time="20">
    <testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e suite" status="passed" time="0.1"></testcase>
    <testcase name="[It] [sig-network] EndpointSlice should have Endpoints and EndpointSlices pointing to API Server [Conformance]" classname="Kubernetes e2e suite" status="passed" time="1"></testcase>
    <testcase name="[It] [sig-network] EndpointSlice should support creating EndpointSlice API operations [Conformance]" classname="Kubernetes e2e suite" status="failed" time="2">
      <failure type="failed">[FAILED] expected 2 endpointslices, got 1&#xA;In [It] at: endpointslice.go:120 @ 12/07/26 17:00:00.000&#xA;</failure>
    </testcase>
    <testcase name="[It] [sig-network] DNS should provide DNS for the cluster [Conformance]" classname="Kubernetes e2e suite" status="skipped" time="0">
      <skipped message="skipped"></skipped>
    </testcase>
    <testcase name="[SynchronizedAfterSuite]" classname="Kubernetes e2e suite" status="passed" time="0.1"></testcase>
  </testsuite>
</testsuites>`

func writeSet(t *testing.T, xml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "junit_01.xml"), []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReadSet(t *testing.T) {
	r := ReadSet("EndpointSlice", writeSet(t, junitSample))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Specs != 2 || r.Passed != 1 || r.Failed != 1 {
		t.Errorf("specs/passed/failed = %d/%d/%d, want 2/1/1", r.Specs, r.Passed, r.Failed)
	}
	want := Failure{
		Spec: "[sig-network] EndpointSlice should support creating EndpointSlice API operations [Conformance]",
		Line: "expected 2 endpointslices, got 1",
	}
	if len(r.Failures) != 1 || r.Failures[0] != want {
		t.Errorf("failures = %+v, want %+v", r.Failures, want)
	}
}

func TestReadSetSuiteFailure(t *testing.T) {
	xml := strings.Replace(junitSample, `<testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e suite" status="passed" time="0.1"></testcase>`,
		`<testcase name="[SynchronizedBeforeSuite]" status="failed"><failure type="failed">&#xA;[FAILED] Error waiting for all pods to be running and ready&#xA;</failure></testcase>`, 1)
	r := ReadSet("s", writeSet(t, xml))
	if r.Specs != 2 || len(r.Failures) != 2 || r.Failures[0].Line != "Error waiting for all pods to be running and ready" {
		t.Errorf("got %+v", r)
	}
}

func TestTable(t *testing.T) {

	ok := SetResult{Name: "EndpointSliceMirroring", Specs: 1, Passed: 1}
	bad := ReadSet("EndpointSlice", writeSet(t, junitSample))
	missing := ReadSet("DNS", t.TempDir())
	got := Table([]SetResult{ok, bad, missing})
	for _, want := range []string{
		"| EndpointSliceMirroring | 1 | 1 | 0 |",
		"| EndpointSlice | 2 | 1 | 1 |",
		"| DNS | - | - | - |",
		"| **all** | 3 | 2 | 1 |",
		"- [sig-network] EndpointSlice should support creating EndpointSlice API operations [Conformance]: `expected 2 endpointslices, got 1`",
		"- no result: no junit_*.xml in",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

func TestRunArgs(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"bad"}, &out); err == nil {
		t.Error("run accepted an argument without =")
	}
	if err := run(nil, &out); err == nil {
		t.Error("run accepted no arguments")
	}
	if err := run([]string{"ok=" + writeSet(t, `<testsuites><testsuite><testcase name="[It] x"></testcase></testsuite></testsuites>`)}, &out); err != nil {
		t.Errorf("run of a passing set: %v", err)
	}
}
