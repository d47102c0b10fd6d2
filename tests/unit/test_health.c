/* test_health.c -- the pure parts of health.c: the URL of a `curl` command
 * line, collecting checks from the config and the runbook, the results JSON.
 * Live HTTP is tested in tests/integration/health_checks.sh. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "pgcutover/health.h"
#include "tap.h"

static void url_is(const char *cmd, const char *want, const char *name)
{
	char *u = hc_curl_url(cmd);
	if (want)
		is_str(u, want, name);
	else
		ok(u == NULL, "%s", name);
	free(u);
}

int main(void)
{
	url_is("curl http://localhost:3000/health", "http://localhost:3000/health", "plain curl URL");
	url_is("curl -s -H 'X: y' https://api.example.com/h", "https://api.example.com/h", "options and their values skipped");
	url_is("curl -fsS \"http://127.0.0.1/ok\"", "http://127.0.0.1/ok", "quotes removed");
	url_is("curl --max-time 5 http://a/b", "http://a/b", "long option with a value");
	url_is("wget http://a/b", NULL, "not curl");
	url_is("curl file:///etc/passwd", NULL, "only http and https");
	url_is(NULL, NULL, "NULL command");

	static const char rbtext[] =
		"# H\n\n## Phase 6: Verify\n\n- [ ] `curl http://127.0.0.1:9/health`\n- [ ] curl -s https://x.example/ok\n"
		"- [ ] Look at the logs\n";
	runbook *rb = NULL;
	pgc_err e = {0};
	ok(runbook_parse(rbtext, strlen(rbtext), "h.md", NULL, &rb, &e) == 0, "runbook parses");
	static const char cfgtext[] = "{\"runbook\": \"h.md\", \"health\": [{\"name\": \"app\", "
		"\"url\": \"http://127.0.0.1:9/app\", \"expect_status\": 204, \"expect_body\": \"up\"}]}";
	config *cfg = NULL;
	ok(config_parse(cfgtext, strlen(cfgtext), "/tmp/pgcutover.json", &cfg, &e) == 0, "config parses");
	hc_check *c = NULL;
	size_t n = hc_collect(cfg, rb, &c);
	is_int(n, 3, "one config check, two runbook checks");
	if (n == 3) {
		is_str(c[0].name, "app", "config check first");
		is_int(c[0].expect_status, 204, "expect_status kept");
		is_str(c[0].expect_body, "up", "expect_body kept");
		is_str(c[1].url, "http://127.0.0.1:9/health", "inline code item's URL");
		is_str(c[1].item, "6.1", "item id kept");
		is_str(c[2].url, "https://x.example/ok", "bare curl item's URL");
		ok(c[1].timeout_ms > 0, "runbook checks get a timeout");

		hc_result r[3] = {{.done = true, .ok = true, .status = 204, .latency_ms = 1.25, .body_matched = true},
		                  {.done = true, .ok = false, .status = 500, .error = "HTTP 500, expected 2xx"},
		                  {.done = true, .ok = false, .error = "Timeout was reached"}};
		ok(!hc_all_ok(r, 3), "not all ok");
		ok(hc_all_ok(r, 1), "first alone ok");
		size_t bad;
		is_int(hc_count_ok(r, 3, &bad), 1, "count: one of three passes");
		is_int(bad, 1, "count: the first failing is the second");
		is_int(hc_count_ok(r, 1, &bad), 1, "count: one alone passes");
		is_int(bad, 1, "count: none failing gives n");
		hc_result r2[3];
		memcpy(r2, r, sizeof r2);
		ok(!hc_outcome_changed(r, r2, 3), "same pass/fail: no change");
		r2[2].ok = true;
		ok(hc_outcome_changed(r, r2, 3), "a check passing now: a change");
		char *js = hc_results_json(c, r, 3);
		cJSON *o = cJSON_Parse(js);
		ok(o && cJSON_IsFalse(cJSON_GetObjectItem(o, "all_ok")), "JSON all_ok false");
		cJSON *arr = cJSON_GetObjectItem(o, "checks");
		is_int(cJSON_GetArraySize(arr), 3, "JSON has every check");
		ok(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "item")), "config check has item null");
		is_str(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "item")->valuestring, "6.1", "runbook check has its item");
		is_str(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 2), "error")->valuestring, "Timeout was reached", "error kept");
		cJSON_Delete(o);
		free(js);
	}
	hc_checks_free(c, n);
	config_free(cfg);
	runbook_free(rb);

	/* "Health check:" items: a curl in backticks, a bare URL, bold label */
	static const char lbtext[] =
		"# L\n\n## Phase 1: Verify\n\n- [ ] Health check: `curl -s http://127.0.0.1:9/health`\n"
		"- [ ] **Health check:** https://x.example/ready.\n- [ ] healthcheck: `http://127.0.0.1:9/b`\n"
		"- [ ] Read http://127.0.0.1:9/docs first\n- [ ] Health check: the dashboard looks fine\n";
	rb = NULL;
	ok(runbook_parse(lbtext, strlen(lbtext), "l.md", NULL, &rb, &e) == 0, "labelled runbook parses");
	is_str(rb_health_label("**Health check:** x"), "x", "label: bold, rest after it");
	ok(rb_health_label("Check health: x") == NULL, "label: not at the start, none");
	c = NULL;
	n = hc_collect(NULL, rb, &c);
	is_int(n, 3, "three labelled items are checks, not the mention nor the label without a URL");
	if (n == 3) {
		is_str(c[0].url, "http://127.0.0.1:9/health", "label + `curl URL`");
		is_str(c[0].item, "1.1", "its item");
		is_str(c[1].url, "https://x.example/ready", "label + bare URL, the full stop left out");
		is_str(c[2].url, "http://127.0.0.1:9/b", "label + a URL in backticks");
	}
	hc_checks_free(c, n);
	runbook_free(rb);
	return done_testing();
}
