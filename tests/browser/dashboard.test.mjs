// The license dashboard at /dashboard in headless Chromium, against the demo
// data: an administrator's live view, ending a session, reconnection after a
// dropped WebSocket, an operator's slice choice and a member's refusal.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  PRODUCTION, assertSameOrigin, baseUrl, graphql, launchBrowser, login, password, productionSliceId,
  recordTraffic, screenshot,
} from "./support.mjs";

const LICENSES = [
  ["NAMED", "named"],
  ["CONCURRENT", "concurrent"],
  ["SELF_SERVICE", "selfService"],
  ["WEB_SERVICES", "webServices"],
];

const COMPLIANCE = `query($sliceId: ID!) {
  compliance(sliceId: $sliceId) {
    version
    named { owned inUse level } concurrent { owned inUse level }
    selfService { owned inUse level } webServices { owned inUse level }
  }
}`;

const LIVE_SESSIONS = `query($sliceId: ID!) {
  sessions(sliceId: $sliceId, first: 100) { totalCount edges { node { id live user { username } } } }
}`;

/** Fills the login form and submits it. */
async function submitLogin(page, slice, username) {
  const form = page.locator("#login-view");
  await form.getByLabel("Slice").fill(slice);
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Log in" }).click();
}

async function openDashboard(page) {
  await page.goto(`${baseUrl}/dashboard`);
  await page.locator("#login-view").getByLabel("Username").waitFor();
}

/** Waits until the connection status reads live. */
async function waitLive(page, timeout) {
  await page.locator('#connection[data-state="live"]').waitFor({ timeout });
  assert.equal(await page.getByRole("status").filter({ hasText: "Live" }).count(), 1);
}

/** Returns the locator of one cell of the licenses table. */
function licenseCell(page, type, field) {
  return page.locator(`#licenses tr[data-license="${type}"] [data-field="${field}"]`);
}

function sessionRows(page, username) {
  return page.locator(`#sessions tbody tr[data-username="${username}"]`);
}

/** Returns what the level column shows for a report entry. */
function shownLevel(usage) {
  if (usage.owned === null) return "—";
  const text = usage.level.toLowerCase().replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

describe("license dashboard", () => {
  let browser;
  let traffic;
  let operatorToken;
  let sliceId;

  before(async () => {
    browser = await launchBrowser();
    traffic = recordTraffic(browser.context);
    operatorToken = await login(null, "operator");
    sliceId = await productionSliceId(operatorToken);
  });

  after(async () => {
    if (browser) await browser.close();
  });

  describe("as the administrator", () => {
    let page;

    before(async () => {
      page = await browser.context.newPage();
    });

    it("logs in and goes live", async () => {
      await openDashboard(page);
      await submitLogin(page, PRODUCTION, "ada");

      await page.getByRole("heading", { level: 1, name: /northwind-prod/ }).waitFor();
      await waitLive(page);
      assert.match(await page.locator("#account-name").textContent(), /ada/);
    });

    it("shows the numbers of the compliance query", async () => {
      const report = (await graphql(COMPLIANCE, { sliceId }, operatorToken)).compliance;
      await page.waitForFunction((version) => Number(document.body.dataset.usageVersion) >= version, report.version);

      for (const [type, key] of LICENSES) {
        const usage = report[key];
        const owned = usage.owned === null ? "unlimited" : String(usage.owned);
        assert.equal((await licenseCell(page, type, "owned").textContent()).trim(), owned, `${type} owned`);
        assert.equal((await licenseCell(page, type, "inUse").textContent()).trim(), String(usage.inUse), `${type} in use`);
        assert.equal((await licenseCell(page, type, "level").textContent()).trim(), shownLevel(usage), `${type} level`);
      }
      const sessions = (await graphql(LIVE_SESSIONS, { sliceId }, operatorToken)).sessions;
      assert.equal(await page.locator("#sessions tbody tr").count(), sessions.totalCount, "live session rows");
      assert.equal((await page.locator("#sessions-count").textContent()).trim(), `(${sessions.totalCount})`);
      assert.ok(Number(await page.locator("#seat-chart").getAttribute("data-changes")) >= 1, "the seat curve has today's changes");
      assert.equal(await page.locator("#seat-chart canvas").count(), 1, "the seat curve is drawn");
    });

    it("shows a login within a second", async () => {
      const before = (await graphql(COMPLIANCE, { sliceId }, operatorToken)).compliance;
      const changes = Number(await page.locator("#seat-chart").getAttribute("data-changes"));

      await login(PRODUCTION, "eve");
      const loggedInAt = Date.now();
      await page.waitForFunction(
        (seats) =>
          document.querySelector('#sessions tbody tr[data-username="eve"]') !== null &&
          document.querySelector('#licenses tr[data-license="CONCURRENT"] [data-field="inUse"]').textContent.trim() === seats,
        String(before.concurrent.inUse + 1),
        { timeout: 5000, polling: "raf" },
      );
      const elapsed = Date.now() - loggedInAt;

      assert.ok(elapsed <= 1000, `the dashboard showed eve's login after ${elapsed} ms`);
      assert.equal(await sessionRows(page, "eve").count(), 1);
      assert.equal(
        Number(await page.locator("#seat-chart").getAttribute("data-changes")),
        changes + 1,
        "the seat curve gained the change",
      );
    });

    it("lists the compliance event the login caused", async () => {
      // Two of two CONCURRENT seats in use reaches the limit, which WARN records.
      await page.locator('#events tbody tr[data-kind="LIMIT_REACHED"]').first().waitFor();
      const events = (await graphql(
        `query($sliceId: ID!) { complianceEvents(sliceId: $sliceId, first: 20) { edges { node { id kind } } } }`,
        { sliceId },
        operatorToken,
      )).complianceEvents.edges.map((edge) => edge.node);
      const shown = await page.locator("#events tbody tr").evaluateAll((rows) => rows.map((row) => row.dataset.event));
      assert.deepEqual(shown, events.map((event) => event.id), "the events of the query, newest first");
    });

    it("ends a session and removes it from the list", async () => {
      const button = page.getByRole("button", { name: "End the web session of eve" });
      await button.click();

      await sessionRows(page, "eve").waitFor({ state: "detached" });
      const sessions = (await graphql(LIVE_SESSIONS, { sliceId }, operatorToken)).sessions.edges.map((edge) => edge.node);
      assert.ok(!sessions.some((session) => session.user.username === "eve"), "eve has no live session");
      await page.waitForFunction(
        () => document.querySelector('#licenses tr[data-license="CONCURRENT"] [data-field="inUse"]').textContent.trim() === "1",
      );
      assert.match(await page.locator("#notices").textContent(), /Ended the web session of eve/);
      console.log(`screenshot: ${await screenshot(page, "dashboard-administrator")}`);
    });

    it("returns to the login when its own session is ended elsewhere", async () => {
      const token = await page.evaluate(() => sessionStorage.getItem("seatwarden.dashboard.token"));
      await graphql("mutation { logout }", {}, token);

      await page.locator("#login-view").getByLabel("Username").waitFor({ timeout: 2000 });
      assert.ok(await page.locator("#dashboard-view").isHidden());
      await submitLogin(page, "northwind-prod", "ada");
      await waitLive(page);
    });

    it("logs out", async () => {
      await page.getByRole("button", { name: "Log out" }).click();

      await page.locator("#login-view").getByLabel("Username").waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.length), 0, "the token is gone from sessionStorage");
      assert.ok(await page.locator("#dashboard-view").isHidden());
      await page.close();
    });
  });

  describe("with a dropped connection", () => {
    let page;
    let allowConnections = true;
    let socketRoute = null;
    let usageSubscriptionId = null;

    before(async () => {
      page = await browser.context.newPage();
      // Every WebSocket of the page goes through this route, which can refuse
      // new connections, close the current one and add messages from the
      // server's side.
      await page.routeWebSocket(/\/graphql$/, (route) => {
        if (!allowConnections) {
          route.close({ code: 1013, reason: "test outage" });
          return;
        }
        const server = route.connectToServer();
        route.onMessage((message) => {
          const parsed = JSON.parse(message);
          if (parsed.type === "subscribe" && parsed.payload.query.includes("licenseUsage")) usageSubscriptionId = parsed.id;
          server.send(message);
        });
        server.onMessage((message) => route.send(message));
        socketRoute = route;
      });
    });

    after(async () => {
      if (page && !page.isClosed()) await page.close();
    });

    it("drops a usage report older than the one shown", async () => {
      await openDashboard(page);
      await submitLogin(page, PRODUCTION, "ada");
      await waitLive(page);
      const report = (await graphql(
        `query($sliceId: ID!) { compliance(sliceId: $sliceId) { sliceId mode compliant evaluatedAt version
          named { licenseType owned inUse available overBy percentUsed level }
          concurrent { licenseType owned inUse available overBy percentUsed level }
          selfService { licenseType owned inUse available overBy percentUsed level }
          webServices { licenseType owned inUse available overBy percentUsed level } } }`,
        { sliceId },
        operatorToken,
      )).compliance;
      await page.waitForFunction((version) => Number(document.body.dataset.usageVersion) >= version, report.version);
      assert.ok(usageSubscriptionId, "the page subscribed to licenseUsage");

      const stale = { ...report, version: report.version - 1, concurrent: { ...report.concurrent, inUse: 99 } };
      socketRoute.send(JSON.stringify({ id: usageSubscriptionId, type: "next", payload: { data: { licenseUsage: stale } } }));

      await page.waitForFunction(() => document.body.dataset.droppedReports === "1");
      assert.equal((await licenseCell(page, "CONCURRENT", "inUse").textContent()).trim(), String(report.concurrent.inUse));
    });

    it("reconnects and loads the state again", async () => {
      allowConnections = false;
      socketRoute.close({ code: 1006, reason: "test outage" });
      await page.locator('#connection[data-state="reconnecting"], #connection[data-state="offline"]').waitFor();

      // While the page is disconnected fay logs in, so only a new query can show her.
      await login(PRODUCTION, "fay");
      await page.locator('#connection[data-state="offline"]').waitFor({ timeout: 20000 });
      assert.match(await page.locator("#connection").textContent(), /Offline/);
      console.log(`screenshot: ${await screenshot(page, "dashboard-offline")}`);
      assert.equal(await sessionRows(page, "fay").count(), 0, "fay's login happened while offline");

      allowConnections = true;
      await page.getByRole("button", { name: "Retry now" }).click();
      await waitLive(page, 20000);
      await sessionRows(page, "fay").waitFor();
    });
  });

  describe("as an operator", () => {
    it("picks a slice", async () => {
      const page = await browser.context.newPage();
      await openDashboard(page);
      await submitLogin(page, "", "operator");

      const picker = page.getByLabel("Slice", { exact: true }).and(page.locator("select"));
      await picker.waitFor();
      assert.match(await picker.locator(`option[value="${sliceId}"]`).textContent(), /^northwind-prod /);
      await picker.selectOption(sliceId);
      await page.getByRole("button", { name: "Show the slice" }).click();

      await page.getByRole("heading", { level: 1, name: /northwind-prod/ }).waitFor();
      await waitLive(page);
      assert.match(await page.locator("#account-name").textContent(), /operator/);
      assert.ok(await page.getByRole("button", { name: "Change slice" }).isVisible());
      await page.close();
    });
  });

  describe("as a member", () => {
    it("ends a session at the web session limit and is refused", async () => {
      // ben holds one WEB session from the demo; a second one fills his limit of two.
      await login(PRODUCTION, "ben");
      const page = await browser.context.newPage();
      await openDashboard(page);
      await submitLogin(page, PRODUCTION, "ben");

      const limit = page.locator("#session-limit");
      await limit.getByRole("heading", { name: "Too many web sessions" }).waitFor();
      assert.equal(await limit.getByRole("checkbox").count(), 2, "ben's two live web sessions are offered");
      console.log(`screenshot: ${await screenshot(page, "dashboard-session-limit")}`);
      await limit.getByRole("button", { name: "End the selected sessions and log in" }).click();

      await page.getByRole("heading", { name: "This dashboard is for administrators" }).waitFor();
      assert.match(await page.getByRole("alert").filter({ hasText: "ben" }).textContent(), /administrators and operators/);
      assert.ok(await page.locator("#dashboard-view").isHidden(), "no slice data is shown");
      assert.equal(await page.locator("#licenses tbody tr").count(), 0, "no license numbers were loaded");
      assert.equal(await page.evaluate(() => sessionStorage.length), 0, "no token is kept");
      console.log(`screenshot: ${await screenshot(page, "dashboard-member")}`);
      await page.close();
    });
  });

  describe("every page", () => {
    it("requests nothing outside the origin", () => {
      assertSameOrigin(traffic.urls);
      assert.ok(traffic.urls.some((url) => url.startsWith("ws:")), "the dashboard opened a WebSocket");
    });

    it("logs no console error", () => {
      assert.deepEqual(traffic.consoleErrors, []);
    });
  });
});
