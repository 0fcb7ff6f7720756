// Drives npm `consul` 2.0.1 (node-consul) against Meridian's Consul-compatible HTTP API.
// Run by tests/Meridian.Integration.Tests/ConsulClientTests.cs; exits non-zero with the failed assertion.
// Environment: MERIDIAN_HTTP (host:port of dc1), RUN_ID (unique names).
"use strict";
const assert = require("node:assert/strict");
const Consul = require("consul");

const [host, port] = process.env.MERIDIAN_HTTP.split(":");
const run = process.env.RUN_ID;
const consul = new Consul({ host, port: Number(port) });
const step = (name) => console.log("ok " + name);

async function expectError(promise, status, text) {
  try {
    await promise;
  } catch (err) {
    assert.equal(err.response && err.response.statusCode, status, String(err));
    if (text) assert.ok(err.message.includes(text), err.message);
    return;
  }
  assert.fail("expected HTTP " + status);
}

async function main() {
  // status and agent
  const leader = await consul.status.leader();
  assert.ok(typeof leader === "string" && leader.length > 0, "leader: " + leader);
  assert.deepEqual(await consul.status.peers(), [leader]);
  const self = await consul.agent.self();
  assert.equal(self.Config.Datacenter, "dc1");
  assert.ok(Array.isArray(await consul.agent.members()));
  step("status and agent.self");

  // catalog
  const node = "node-" + run, svc = "svc-" + run;
  await consul.catalog.register({ node, address: "10.9.8.7", service: { id: svc + "-1", service: svc, tags: ["x"], port: 7000 },
    check: { node, checkid: "chk-" + run, name: "alive", status: "passing", serviceid: svc + "-1" } });
  assert.deepEqual((await consul.catalog.services())[svc], ["x"]);
  const instances = await consul.catalog.service.nodes(svc);
  assert.deepEqual(instances.map((i) => [i.Node, i.ServicePort]), [[node, 7000]]);
  assert.ok((await consul.catalog.nodes()).some((n) => n.Node === node));
  assert.ok((await consul.catalog.datacenters()).includes("dc1"));
  step("catalog");

  // health
  const healthy = await consul.health.service({ service: svc, passing: true });
  assert.equal(healthy.length, 1);
  assert.deepEqual(healthy[0].Checks.map((c) => c.Status), ["passing"]);
  assert.deepEqual((await consul.health.checks(svc)).map((c) => c.CheckID), ["chk-" + run]);
  assert.ok((await consul.health.state("passing")).some((c) => c.CheckID === "chk-" + run));
  step("health");

  // agent services with a TTL check
  const agentSvc = "agent-" + run;
  await consul.agent.service.register({ name: agentSvc, id: agentSvc + "-1", port: 7100, check: { ttl: "30s" } });
  assert.ok(Object.keys(await consul.agent.service.list()).includes(agentSvc + "-1"));
  await consul.agent.check.pass("service:" + agentSvc + "-1");
  assert.equal((await consul.health.service({ service: agentSvc, passing: true })).length, 1);
  await consul.agent.check.fail("service:" + agentSvc + "-1");
  assert.equal((await consul.health.service({ service: agentSvc, passing: true })).length, 0);
  await consul.agent.service.deregister(agentSvc + "-1");
  assert.equal((await consul.health.service(agentSvc)).length, 0);
  await expectError(consul.agent.service.deregister(agentSvc + "-1"), 404);
  step("agent service and checks");

  // prepared queries: node-consul reads the first element of GET /v1/query/:id
  const created = await consul.query.create({ name: "q-" + run, service: { service: svc, onlyPassing: true } });
  assert.ok(created.ID);
  const got = await consul.query.get(created.ID);
  assert.equal(got.Service.Service, svc);
  assert.ok((await consul.query.list()).some((q) => q.ID === created.ID));
  const result = await consul.query.execute(created.ID);
  assert.equal(result.Service, svc);
  assert.deepEqual(result.Nodes.map((n) => n.Service.ID), [svc + "-1"]);
  await consul.query.update({ query: created.ID, name: "q-" + run, service: { service: svc } });
  await consul.query.destroy(created.ID);
  await expectError(consul.query.get(created.ID), 404, "Query not found");
  step("prepared queries");

  // a watch on the service sees an instance added (it needs X-Consul-Index on every answer)
  const seen = await new Promise((resolve, reject) => {
    const watch = consul.watch({ method: consul.health.service, options: { service: svc, wait: "5s" } });
    const counts = [];
    const timer = setTimeout(() => { watch.end(); reject(new Error("the watch saw no change: " + JSON.stringify(counts))); }, 30000);
    watch.on("change", (data) => {
      counts.push(data.length);
      if (counts.length === 1) {
        consul.catalog.register({ node, address: "10.9.8.7", service: { id: svc + "-2", service: svc, port: 7001 } }).catch(reject);
      } else if (data.length === 2) {
        clearTimeout(timer);
        watch.end();
        resolve(counts);
      }
    });
    watch.on("error", (err) => { clearTimeout(timer); watch.end(); reject(err); });
  });
  assert.deepEqual([seen[0], seen[seen.length - 1]], [1, 2]);
  step("watch");

  await consul.catalog.deregister({ node });
  assert.equal((await consul.catalog.service.nodes(svc)).length, 0);
  step("catalog deregister");
  console.log("ALL OK");
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
