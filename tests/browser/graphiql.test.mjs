// GraphiQL at /graphiql in headless Chromium: the editor renders, a query runs
// with the token from the headers pane, a subscription receives a session
// event, and the page requests nothing outside the service's origin.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  PRODUCTION, assertSameOrigin, baseUrl, launchBrowser, login, productionSliceId, recordTraffic, screenshot,
} from "./support.mjs";

/**
 * Replaces the text of the CodeMirror 5 editor inside `selector`. GraphiQL
 * 4.1.2 copies editor changes into its state after a 100 ms debounce, so the
 * function waits three times that before it returns.
 */
async function setEditor(page, selector, text) {
  await page.locator(selector).first().waitFor();
  await page.evaluate(
    ([selector, text]) => document.querySelector(selector).CodeMirror.setValue(text),
    [selector, text],
  );
  await page.waitForTimeout(300);
}

async function resultText(page) {
  return page.evaluate(() => document.querySelector(".graphiql-response .CodeMirror").CodeMirror.getValue());
}

const QUERY_EDITOR = ".graphiql-query-editor .CodeMirror";
const HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror";

describe("GraphiQL", () => {
  let browser;
  let traffic;
  let page;
  let token;
  let sliceId;

  before(async () => {
    browser = await launchBrowser();
    traffic = recordTraffic(browser.context);
    page = await browser.context.newPage();
    token = await login(PRODUCTION, "ada");
    sliceId = await productionSliceId(token);
  });

  after(async () => {
    if (browser) await browser.close();
  });

  it("renders the query editor", async () => {
    await page.goto(`${baseUrl}/graphiql`);

    await page.locator(QUERY_EDITOR).waitFor();
    await page.getByRole("button", { name: /Execute query/ }).waitFor();
    assert.match(await page.title(), /GraphiQL/);
  });

  it("runs a query with the token from the headers pane", async () => {
    await setEditor(page, HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${token}` }));
    await setEditor(page, QUERY_EDITOR, "{ me { username } }");
    await page.getByRole("button", { name: /Execute query/ }).click();

    await page.waitForFunction(
      () => document.querySelector(".graphiql-response .CodeMirror").CodeMirror.getValue().includes('"username"'),
    );
    const result = JSON.parse(await resultText(page));
    assert.deepEqual(result, { data: { me: { username: "ada" } } });
  });

  it("receives a session event over its subscription", async () => {
    const acknowledged = page.waitForEvent("websocket").then((socket) =>
      new Promise((resolve) => {
        socket.on("framereceived", (frame) => {
          if (String(frame.payload).includes('"connection_ack"')) resolve();
        });
      }));
    await setEditor(
      page,
      QUERY_EDITOR,
      `subscription { sessionEvents(sliceId: "${sliceId}") { kind session { channel user { username } } } }`,
    );
    await page.getByRole("button", { name: /Execute query/ }).click();
    await acknowledged;

    // graphql-transport-ws does not acknowledge a subscribe message, so a
    // login right after it may come before the server listens. A second
    // login, on MOBILE, covers that case.
    const received = () => page.waitForFunction(
      () => document.querySelector(".graphiql-response .CodeMirror").CodeMirror.getValue().includes('"cleo"'),
      null,
      { timeout: 3000 },
    );
    await login(PRODUCTION, "cleo");
    await received().catch(async () => {
      await login(PRODUCTION, "cleo", "MOBILE");
      await received();
    });
    const result = JSON.parse(await resultText(page));
    assert.equal(result.data.sessionEvents.kind, "STARTED");
    assert.equal(result.data.sessionEvents.session.user.username, "cleo");
    console.log(`screenshot: ${await screenshot(page, "graphiql-subscription")}`);
  });

  it("requests nothing outside the origin", () => {
    assertSameOrigin(traffic.urls);
    assert.ok(
      traffic.urls.some((url) => url.startsWith("ws:")),
      `no WebSocket was opened: ${traffic.urls.join(", ")}`,
    );
  });
});
