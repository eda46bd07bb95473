// Seatwarden license dashboard: logs in through the GraphQL API, loads a
// slice's state with one query and keeps it current through the licenseUsage,
// sessionEvents and complianceEvents subscriptions. It needs the globals
// `uPlot` (uPlot's IIFE build) and `graphqlWs` (graphql-ws's UMD build).
"use strict";

(function () {
  const TOKEN_KEY = "seatwarden.dashboard.token";
  const SLICE_KEY = "seatwarden.dashboard.slice";
  const LICENSE_TYPES = [
    ["NAMED", "named", "Named"],
    ["CONCURRENT", "concurrent", "Concurrent"],
    ["SELF_SERVICE", "selfService", "Self-service"],
    ["WEB_SERVICES", "webServices", "Web services"],
  ];
  const MAX_EVENTS = 20;
  const MAX_SESSIONS = 100;
  // After this many failed reconnection attempts in a row the status shows
  // Offline instead of Reconnecting.
  const OFFLINE_AFTER_RETRIES = 3;
  const MAX_RETRY_WAIT_MS = 15000;

  // ---- GraphQL documents ------------------------------------------------

  const USAGE_FIELDS = "licenseType owned inUse available overBy percentUsed level";
  const REPORT_FIELDS = `sliceId mode compliant evaluatedAt version
    named { ${USAGE_FIELDS} } concurrent { ${USAGE_FIELDS} }
    selfService { ${USAGE_FIELDS} } webServices { ${USAGE_FIELDS} }`;
  const SESSION_FIELDS = "id channel startedAt lastSeenAt current user { id username displayName }";
  const EVENT_FIELDS = "id kind licenseType level inUse owned message occurredAt";

  const LOGIN = `mutation DashboardLogin($input: LoginInput!) {
    login(input: $input) {
      __typename
      ... on LoginSuccess { token warnings { code message } }
      ... on LoginRejected { reason message }
      ... on SessionLimitReached { message maxWebSessions activeSessions { id channel startedAt lastSeenAt userAgent clientAddress } }
      ... on LicenseUnavailable { message licenseType owned inUse }
    }
  }`;
  const ME = "query DashboardMe { me { id username displayName role slice { id name displayName } } }";
  const LOGOUT = "mutation DashboardLogout { logout }";
  const SLICES = `query DashboardSlices($after: String) {
    slices(first: 100, after: $after) {
      totalCount
      edges { node { id name displayName kind } }
      pageInfo { hasNextPage endCursor }
    }
  }`;
  const SNAPSHOT = `query DashboardSnapshot($sliceId: ID!, $today: Date!, $yesterday: Date!) {
    subscriptionCenter(sliceId: $sliceId) {
      slice { id name displayName kind enforcementMode modePinned }
      renewalDate daysUntilRenewal
      today: seatCurve(date: $today) { at seatsInUse }
      yesterday: seatCurve(date: $yesterday) { at seatsInUse }
    }
    compliance(sliceId: $sliceId) { ${REPORT_FIELDS} }
    sessions(sliceId: $sliceId, first: ${MAX_SESSIONS}) { totalCount edges { node { ${SESSION_FIELDS} } } }
    complianceEvents(sliceId: $sliceId, first: ${MAX_EVENTS}) { edges { node { ${EVENT_FIELDS} } } }
  }`;
  const END_SESSION = "mutation DashboardEndSession($id: ID!) { endSession(id: $id) { id live } }";
  const USAGE_SUBSCRIPTION = `subscription DashboardUsage($sliceId: ID!) {
    licenseUsage(sliceId: $sliceId) { ${REPORT_FIELDS} }
  }`;
  const SESSION_SUBSCRIPTION = `subscription DashboardSessions($sliceId: ID!) {
    sessionEvents(sliceId: $sliceId) { kind session { ${SESSION_FIELDS} live } usage { ${REPORT_FIELDS} } }
  }`;
  const EVENT_SUBSCRIPTION = `subscription DashboardEvents($sliceId: ID!) {
    complianceEvents(sliceId: $sliceId) { ${EVENT_FIELDS} }
  }`;

  // ---- State ----------------------------------------------------------------

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    me: null,
    sliceId: null,
    // Newest usage report version shown; older reports are dropped.
    usageVersion: -1,
    // Usage version of the loaded snapshot, or null while a snapshot loads.
    snapshotVersion: null,
    // Session and compliance events that arrived while the snapshot loaded.
    pendingSessionEvents: [],
    pendingComplianceEvents: [],
    sessions: new Map(),
    sessionsTotal: 0,
    events: [],
    owned: { concurrent: null },
    curve: { day: null, points: [] },
    // Milliseconds to add to the browser's clock to get the server's.
    clockOffset: 0,
    client: null,
    unsubscribers: [],
    chart: null,
    snapshotGeneration: 0,
    // The slice heading's mode and how to write the heading's line.
    heading: null,
  };

  const $ = (id) => document.getElementById(id);

  // ---- Small helpers ----------------------------------------------------

  /** Creates an element with attributes and children (strings become text). */
  function element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const timeFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  const hourFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  const dateTimeFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });

  /** Returns a <time> element: the time of day for today, else date and time, in UTC. */
  function timeElement(iso) {
    const date = new Date(iso);
    const today = utcDay(serverNow());
    const text = utcDay(date) === today ? timeFormat.format(date) : dateTimeFormat.format(date);
    return element("time", { datetime: iso, title: date.toISOString() }, text);
  }

  function serverNow() {
    return new Date(Date.now() + state.clockOffset);
  }

  /** Returns `YYYY-MM-DD` of `date` in UTC. */
  function utcDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function previousDay(day) {
    const date = new Date(`${day}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() - 1);
    return utcDay(date);
  }

  function label(enumValue) {
    if (!enumValue) return "";
    const text = enumValue.toLowerCase().replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function show(id, visible) {
    $(id).hidden = !visible;
  }

  function showView(id) {
    for (const view of ["login-view", "refusal-view", "picker-view", "dashboard-view"]) {
      show(view, view === id);
    }
  }

  function setMessage(id, text, kind) {
    const box = $(id);
    box.replaceChildren();
    box.className = `message ${kind || ""}`;
    box.hidden = !text;
    if (text) box.append(...(Array.isArray(text) ? text : [text]));
  }

  function addNotice(text, kind) {
    const notice = element("p", { className: `message ${kind || "info"}` }, text,
      element("button", { type: "button", className: "link-button", "aria-label": "Dismiss this message" }, "Dismiss"));
    notice.querySelector("button").addEventListener("click", () => notice.remove());
    $("notices").append(notice);
  }

  // ---- GraphQL over HTTP ------------------------------------------------

  class ApiError extends Error {
    constructor(message, code) {
      super(message);
      this.code = code;
    }
  }

  /** Sends a query or mutation and returns its data. Throws ApiError when the response has errors. */
  async function request(query, variables) {
    const headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    let response;
    try {
      response = await fetch("/graphql", {
        method: "POST", headers, body: JSON.stringify({ query, variables: variables || {} }),
      });
    } catch (error) {
      throw new ApiError(`The service cannot be reached (${error.message}).`, "NETWORK");
    }
    let body;
    try {
      body = await response.json();
    } catch {
      throw new ApiError(`The service answered HTTP ${response.status} without a GraphQL response.`, "HTTP");
    }
    if (body.errors && body.errors.length > 0) {
      const first = body.errors[0];
      const code = (first.extensions && first.extensions.code) || "ERROR";
      if (code === "UNAUTHENTICATED" && state.token) sessionEnded();
      throw new ApiError(first.message, code);
    }
    return body.data;
  }

  // ---- Login ----------------------------------------------------------------

  const REJECT_HINTS = {
    INVALID_CREDENTIALS: "Check the slice, the username and the password.",
    USER_INACTIVE: "Ask an administrator of the slice to activate the account.",
    CHANNEL_NOT_ALLOWED: "This account may not log in on the web.",
    ACCOUNT_LOCKED: "Wait until the lock ends, or ask an administrator to unlock the account.",
    TOO_MANY_ATTEMPTS: "Wait a few minutes before the next attempt.",
  };

  async function submitLogin(endSessionIds) {
    const slice = $("login-slice").value.trim();
    const username = $("login-username").value.trim();
    const password = $("login-password").value;
    if (!username || !password) {
      setMessage("login-message", "Enter a username and a password.", "error");
      (username ? $("login-password") : $("login-username")).focus();
      return;
    }
    const submit = $("login-submit");
    submit.disabled = true;
    setMessage("login-message", "Logging in…", "info");
    try {
      const data = await request(LOGIN, {
        input: { slice: slice || null, username, password, channel: "WEB", endSessionIds: endSessionIds || [] },
      });
      handleLoginResult(data.login);
    } catch (error) {
      setMessage("login-message", `Login failed: ${error.message}`, "error");
    } finally {
      submit.disabled = false;
    }
  }

  function handleLoginResult(result) {
    show("session-limit", false);
    switch (result.__typename) {
      case "LoginSuccess":
        setMessage("login-message", null);
        $("login-password").value = "";
        state.token = result.token;
        sessionStorage.setItem(TOKEN_KEY, result.token);
        start(result.warnings);
        break;
      case "LoginRejected":
        // The server's message already says what to do; the hint is for a message without advice.
        setMessage("login-message", result.message || REJECT_HINTS[result.reason] || "The login was rejected.", "error");
        $("login-password").focus();
        break;
      case "SessionLimitReached":
        setMessage("login-message", null);
        showSessionLimit(result);
        break;
      case "LicenseUnavailable":
        setMessage("login-message", result.message, "error");
        break;
      default:
        setMessage("login-message", `Unexpected login result ${result.__typename}.`, "error");
    }
  }

  function showSessionLimit(result) {
    // The result's message addresses API clients (it names endSessionIds),
    // so the page words the choice itself.
    $("session-limit-text").textContent =
      `You already hold ${result.activeSessions.length} live web sessions, and a user may hold ` +
      `${result.maxWebSessions}. Select the sessions to end and log in here, or log out in another browser first.`;
    const list = $("session-limit-list");
    list.replaceChildren();
    result.activeSessions.forEach((session, index) => {
      const id = `end-session-${index}`;
      const description = [
        "started ", timeElement(session.startedAt), ", last seen ", timeElement(session.lastSeenAt),
        session.userAgent ? ` — ${session.userAgent}` : "",
        session.clientAddress ? ` from ${session.clientAddress}` : "",
      ];
      list.append(element("li", {},
        element("input", { type: "checkbox", id, value: session.id, checked: index === 0 }),
        element("label", { for: id }, "Web session ", ...description)));
    });
    show("session-limit", true);
    list.querySelector("input")?.focus();
  }

  async function submitSessionLimit(event) {
    event.preventDefault();
    const ids = [...$("session-limit-list").querySelectorAll("input:checked")].map((box) => box.value);
    if (ids.length === 0) {
      setMessage("login-message", "Select at least one session to end.", "error");
      return;
    }
    await submitLogin(ids);
  }

  // ---- Start-up after login ---------------------------------------------

  async function start(warnings) {
    let me;
    try {
      me = (await request(ME)).me;
    } catch (error) {
      if (error.code !== "UNAUTHENTICATED") {
        showView("login-view");
        setMessage("login-message", `Cannot load your account: ${error.message}`, "error");
      }
      return;
    }
    state.me = me;
    $("notices").replaceChildren();
    if (me.role === "MEMBER") {
      await refuseMember(me);
      return;
    }
    $("account-name").textContent = me.role === "OPERATOR" ? `${me.username} (operator)` : `${me.username} (${me.slice.name})`;
    show("account", true);
    for (const warning of warnings || []) addNotice(warning.message, "warning");

    if (me.role === "OPERATOR") {
      const remembered = sessionStorage.getItem(SLICE_KEY);
      if (remembered) openSlice(remembered);
      else showPicker();
    } else {
      openSlice(me.slice.id);
    }
  }

  /** Tells a member that the dashboard is not for them and ends the session it just started. */
  async function refuseMember(me) {
    try {
      await request(LOGOUT);
    } catch {
      // The session ends by itself at its idle deadline.
    }
    forgetToken();
    $("refusal-text").textContent =
      `You are logged in as ${me.username}, a member of ${me.slice ? me.slice.name : "no slice"}. ` +
      "Only the slice's administrators and operators see its licenses and sessions, so no data is shown " +
      "and your session was ended. Ask an administrator of your slice for the numbers you need.";
    showView("refusal-view");
    $("refusal-view").focus();
  }

  async function showPicker() {
    showView("picker-view");
    stopLive();
    const select = $("picker-select");
    select.replaceChildren(element("option", { value: "" }, "Loading slices…"));
    const slices = [];
    let after = null;
    let total = 0;
    try {
      do {
        const page = (await request(SLICES, { after })).slices;
        total = page.totalCount;
        slices.push(...page.edges.map((edge) => edge.node));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after && slices.length < 1000);
    } catch (error) {
      select.replaceChildren(element("option", { value: "" }, "No slices loaded"));
      $("picker-note").textContent = `Cannot load the slices: ${error.message}`;
      show("picker-note", true);
      return;
    }
    slices.sort((a, b) => a.name.localeCompare(b.name));
    select.replaceChildren(...slices.map((slice) =>
      element("option", { value: slice.id }, `${slice.name} — ${slice.displayName} (${label(slice.kind).toLowerCase()})`)));
    $("picker-note").textContent = slices.length < total ? `Showing the first ${slices.length} of ${total} slices.` : "";
    show("picker-note", slices.length < total);
    $("picker-title").focus();
  }

  // ---- The live connection ----------------------------------------------

  // Ends the current wait between reconnection attempts, while one runs.
  let retryNow = null;

  const CONNECTION_TEXT = { live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };

  function setConnection(status, text) {
    const box = $("connection");
    box.hidden = false;
    box.dataset.state = status;
    $("connection-text").textContent = text || CONNECTION_TEXT[status];
    show("retry-now", status === "offline" && retryNow !== null);
  }

  function createClient() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let connectedOnce = false;
    let offline = false;
    const client = graphqlWs.createClient({
      url: `${scheme}//${location.host}/graphql`,
      connectionParams: () => ({ Authorization: `Bearer ${state.token}` }),
      lazy: false,
      retryAttempts: Infinity,
      // Every close is retried except 4403: the token's session has ended.
      shouldRetry: (event) => !(event && event.code === 4403),
      // `retries` counts the failed attempts since the last connection.
      retryWait: (retries) => new Promise((resolve) => {
        const delay = Math.min(500 * 2 ** retries, MAX_RETRY_WAIT_MS) + Math.random() * 300;
        const finish = () => {
          clearTimeout(timer);
          retryNow = null;
          window.removeEventListener("online", finish);
          resolve();
        };
        const timer = setTimeout(finish, delay);
        retryNow = finish;
        window.addEventListener("online", finish);
        offline = retries + 1 >= OFFLINE_AFTER_RETRIES || !navigator.onLine;
        if (offline) setConnection("offline", `Offline, next attempt in ${Math.round(delay / 1000)} s`);
        else setConnection("reconnecting");
      }),
      onNonLazyError: (error) => {
        if (error && error.code === 4403) sessionEnded();
        else if (state.client === client) setConnection("offline", "Offline, reload the page to reconnect");
      },
      on: {
        connecting: () => {
          if (offline) setConnection("offline", "Offline, trying to connect…");
          else setConnection("reconnecting", connectedOnce ? null : "Connecting…");
        },
        connected: () => {
          offline = false;
          setConnection("live");
          // The subscriptions resume on the new connection, but events sent
          // while it was down are lost, so the state is loaded again.
          if (connectedOnce) loadSnapshot();
          connectedOnce = true;
        },
        closed: () => {
          if (state.client === client && !offline) setConnection("reconnecting");
        },
      },
    });
    return client;
  }

  function subscribe(query, onData) {
    const sliceId = state.sliceId;
    return state.client.subscribe({ query, variables: { sliceId } }, {
      next: (result) => {
        if (state.sliceId !== sliceId) return;
        if (result.errors && result.errors.length > 0) {
          addNotice(`A live update failed: ${result.errors[0].message}`, "error");
          return;
        }
        onData(result.data);
      },
      error: (error) => {
        if (error && error.code === 4403) sessionEnded();
      },
      // The server completes a subscription only when its session ended or the
      // user lost the right to the slice; the page then checks which.
      complete: () => {
        if (state.sliceId === sliceId && state.client) checkSession();
      },
    });
  }

  /** Returns to the login when the page's session no longer works. */
  async function checkSession() {
    try {
      await request("{ me { id } }");
      // The session still works, so the right to the slice is gone.
      addNotice("The live updates of this slice ended: your account may no longer administer it. Log in again.", "error");
      await logout();
    } catch (error) {
      // `request` already returns to the login on UNAUTHENTICATED.
      if (error.code !== "UNAUTHENTICATED") setConnection("offline", "Offline: the live updates ended.");
    }
  }

  function startLive() {
    stopLive();
    state.client = createClient();
    setConnection("reconnecting");
    state.unsubscribers = [
      subscribe(USAGE_SUBSCRIPTION, (data) => applyUsage(data.licenseUsage)),
      subscribe(SESSION_SUBSCRIPTION, (data) => receiveSessionEvent(data.sessionEvents)),
      subscribe(EVENT_SUBSCRIPTION, (data) => addComplianceEvent(data.complianceEvents)),
    ];
  }

  function stopLive() {
    for (const unsubscribe of state.unsubscribers) unsubscribe();
    state.unsubscribers = [];
    const client = state.client;
    state.client = null;
    retryNow = null;
    if (client) client.dispose();
    show("connection", false);
  }

  // ---- The slice's state ------------------------------------------------

  function openSlice(sliceId) {
    state.sliceId = sliceId;
    if (state.me.role === "OPERATOR") sessionStorage.setItem(SLICE_KEY, sliceId);
    show("change-slice", state.me.role === "OPERATOR");
    $("slice-title").textContent = "Loading…";
    showView("dashboard-view");
    state.usageVersion = -1;
    state.report = null;
    state.sessions = new Map();
    state.sessionsTotal = 0;
    state.events = [];
    state.pendingSessionEvents = [];
    state.pendingComplianceEvents = [];
    state.curve = { day: null, points: [] };
    renderAll();
    // Subscribing first and then loading the snapshot loses no event, because
    // events that arrive meanwhile are held and replayed onto the snapshot.
    startLive();
    loadSnapshot().then(() => $("slice-title").focus());
  }

  async function loadSnapshot(day) {
    const generation = ++state.snapshotGeneration;
    const sliceId = state.sliceId;
    const today = day || utcDay(serverNow());
    state.snapshotVersion = null;
    let data;
    try {
      data = await request(SNAPSHOT, { sliceId, today, yesterday: previousDay(today) });
    } catch (error) {
      if (generation !== state.snapshotGeneration) return;
      if (error.code === "NOT_FOUND" && state.me && state.me.role === "OPERATOR") {
        sessionStorage.removeItem(SLICE_KEY);
        showPicker();
        return;
      }
      if (error.code !== "UNAUTHENTICATED") addNotice(`Cannot load the slice: ${error.message}`, "error");
      return;
    }
    if (generation !== state.snapshotGeneration || sliceId !== state.sliceId) return;

    const report = data.compliance;
    state.clockOffset = new Date(report.evaluatedAt).getTime() - Date.now();
    const serverDay = utcDay(new Date(report.evaluatedAt));
    if (serverDay !== today && !day) {
      // The browser's clock is on another UTC day than the server's.
      await loadSnapshot(serverDay);
      return;
    }

    const center = data.subscriptionCenter;
    renderSliceHeading(center, report);
    state.sessions = new Map(data.sessions.edges.map((edge) => [edge.node.id, edge.node]));
    state.sessionsTotal = data.sessions.totalCount;
    state.events = data.complianceEvents.edges.map((edge) => edge.node);
    state.curve = buildCurve(today, center.today, center.yesterday, report);
    applyUsage(report, { fromSnapshot: true });
    // A report newer than the snapshot may have arrived while it loaded.
    if (state.report && state.report.version > report.version) extendCurve(state.report);

    // Events that arrived while the snapshot loaded may or may not be part
    // of it. Replaying them in order is right either way, because starting a
    // listed session or ending an unlisted one changes nothing.
    state.snapshotVersion = report.version;
    const pendingSessions = state.pendingSessionEvents;
    const pendingEvents = state.pendingComplianceEvents;
    state.pendingSessionEvents = [];
    state.pendingComplianceEvents = [];
    for (const event of pendingSessions) receiveSessionEvent(event);
    for (const event of pendingEvents) addComplianceEvent(event);
    renderAll();
  }

  /** Keeps the heading's mode in step with live usage reports. */
  function updateMode(mode) {
    const meta = $("slice-meta");
    if (!mode || meta.dataset.mode === mode || !state.heading) return;
    state.heading.mode = mode;
    meta.textContent = state.heading.parts();
    meta.dataset.mode = mode;
  }

  function renderSliceHeading(center, report) {
    const slice = center.slice;
    $("slice-title").textContent = `${slice.displayName} (${slice.name})`;
    const heading = { mode: report.mode || slice.enforcementMode };
    const parts = [
      `${label(slice.kind)} slice`,
      null,
    ];
    if (center.renewalDate) {
      const days = center.daysUntilRenewal;
      let when = "today";
      if (days > 0) when = `in ${days} days`;
      if (days < 0) when = `${-days} days ago`;
      parts.push(`renews on ${center.renewalDate} (${when})`);
    } else {
      parts.push("no renewal date");
    }
    heading.parts = () => {
      parts[1] = `enforcement ${heading.mode}${slice.modePinned ? " (pinned)" : ""}`;
      return parts.join(" · ");
    };
    state.heading = heading;
    $("slice-meta").textContent = heading.parts();
    $("slice-meta").dataset.mode = heading.mode;
  }

  /**
   * Builds today's step curve from the seat-change log. The value at 00:00 is
   * the last change of the day before; without one it is unknown, unless
   * today had no change either, in which case the current count held all day.
   */
  function buildCurve(day, todayPoints, yesterdayPoints, report) {
    const start = new Date(`${day}T00:00:00Z`).getTime() / 1000;
    const points = todayPoints.map((point) => ({ at: new Date(point.at).getTime() / 1000, seats: point.seatsInUse }));
    let initial = null;
    if (yesterdayPoints.length > 0) initial = yesterdayPoints[yesterdayPoints.length - 1].seatsInUse;
    else if (points.length === 0) initial = report.concurrent.inUse;
    if (initial !== null && (points.length === 0 || points[0].at > start)) {
      points.unshift({ at: start, seats: initial, dayStart: true });
    }
    return { day, points };
  }

  // ---- Live updates -------------------------------------------------------

  /** Shows a usage report unless a newer one is already shown. */
  function applyUsage(report, options) {
    if (!report || report.sliceId !== state.sliceId) return;
    if (report.version <= state.usageVersion) {
      if (report.version < state.usageVersion) {
        document.body.dataset.droppedReports = String(Number(document.body.dataset.droppedReports || 0) + 1);
      }
      return;
    }
    state.usageVersion = report.version;
    state.report = report;
    updateMode(report.mode);
    state.owned.concurrent = report.concurrent.owned;
    document.body.dataset.usageVersion = String(report.version);
    renderLicenses(report);
    if (!(options && options.fromSnapshot)) extendCurve(report);
    renderCurve();
  }

  function extendCurve(report) {
    // While a snapshot loads, it brings the curve up to date itself.
    if (state.snapshotVersion === null) return;
    const at = new Date(report.evaluatedAt);
    if (utcDay(at) !== state.curve.day) {
      // A new UTC day began: load its curve.
      loadSnapshot();
      return;
    }
    const points = state.curve.points;
    const seats = report.concurrent.inUse;
    if (points.length > 0 && points[points.length - 1].seats === seats) return;
    points.push({ at: at.getTime() / 1000, seats });
  }

  function receiveSessionEvent(event) {
    if (!event) return;
    if (state.snapshotVersion === null) {
      state.pendingSessionEvents.push(event);
      return;
    }
    applyUsage(event.usage);
    const session = event.session;
    if (event.kind === "STARTED" && session.live) {
      if (!state.sessions.has(session.id)) state.sessionsTotal += 1;
      state.sessions.set(session.id, session);
    } else if (event.kind === "ENDED" && state.sessions.delete(session.id)) {
      // NOTE: an ended session beyond the listed newest ones leaves the
      // total one too high until the next snapshot.
      state.sessionsTotal = Math.max(0, state.sessionsTotal - 1);
    }
    renderSessions();
  }

  function addComplianceEvent(event) {
    if (!event) return;
    if (state.snapshotVersion === null) {
      state.pendingComplianceEvents.push(event);
      return;
    }
    if (state.events.some((known) => known.id === event.id)) return;
    state.events.unshift(event);
    state.events.sort((a, b) => b.occurredAt.localeCompare(a.occurredAt));
    state.events.length = Math.min(state.events.length, MAX_EVENTS);
    renderEvents();
  }

  async function endSession(session, button) {
    button.disabled = true;
    button.textContent = "Ending…";
    try {
      await request(END_SESSION, { id: session.id });
      if (state.sessions.delete(session.id)) state.sessionsTotal = Math.max(0, state.sessionsTotal - 1);
      renderSessions();
      addNotice(`Ended the ${session.channel.toLowerCase()} session of ${session.user.username}.`, "info");
      $("sessions-title").focus();
    } catch (error) {
      button.disabled = false;
      button.textContent = "End session";
      addNotice(`Cannot end the session of ${session.user.username}: ${error.message}`, "error");
    }
  }

  // ---- Rendering ------------------------------------------------------------

  function renderAll() {
    if (state.report) renderLicenses(state.report);
    else $("licenses").tBodies[0].replaceChildren();
    renderCurve();
    renderSessions();
    renderEvents();
  }

  function renderLicenses(report) {
    const rows = LICENSE_TYPES.map(([type, key, name]) => {
      const usage = report[key];
      const limited = usage.owned !== null;
      const level = limited ? usage.level : null;
      return element("tr", { dataset: { license: type } },
        element("th", { scope: "row" }, name),
        element("td", { className: "number", dataset: { field: "owned" } }, limited ? usage.owned : "unlimited"),
        element("td", { className: "number", dataset: { field: "inUse" } }, usage.inUse),
        element("td", { className: "number", dataset: { field: "available" } }, limited ? usage.available : "—"),
        element("td", { dataset: { field: "level" } },
          level ? element("span", { className: `level level-${level.toLowerCase()}` }, label(level)) : "—",
          limited && usage.overBy > 0 ? ` (${usage.overBy} over)` : ""));
    });
    $("licenses").tBodies[0].replaceChildren(...rows);
    $("compliance-summary").textContent =
      `${report.compliant ? "Compliant" : "Not compliant: more licenses in use than owned"}. ` +
      `Mode ${report.mode}. Usage version ${report.version}, evaluated at ${timeFormat.format(new Date(report.evaluatedAt))} UTC.`;
  }

  /** Returns uPlot's data: times in seconds, seats in use, and seats owned. */
  function curveData() {
    const points = state.curve.points;
    const xs = points.map((point) => point.at);
    const seats = points.map((point) => point.seats);
    // The step extends from the last change to now.
    const now = serverNow().getTime() / 1000;
    if (points.length > 0 && utcDay(serverNow()) === state.curve.day && now > xs[xs.length - 1]) {
      xs.push(now);
      seats.push(seats[seats.length - 1]);
    }
    // The owned line spans the whole day, so the data gets points at 00:00
    // (unless a change is there) and at 24:00, where the seat series is null.
    if (state.curve.day) {
      const start = new Date(`${state.curve.day}T00:00:00Z`).getTime() / 1000;
      if (xs.length === 0 || xs[0] > start) {
        xs.unshift(start);
        seats.unshift(null);
      }
      xs.push(start + 86400);
      seats.push(null);
    }
    const owned = xs.map(() => state.owned.concurrent);
    return [xs, seats, owned];
  }

  function renderCurve() {
    const container = $("seat-chart");
    const data = curveData();
    const changes = state.curve.points.filter((point) => !point.dayStart).length;
    container.dataset.changes = String(changes);
    const current = state.report ? state.report.concurrent.inUse : null;
    const peak = state.curve.points.reduce((max, point) => Math.max(max, point.seats), 0);
    const summary = current === null
      ? "Loading the seat curve…"
      : `Now ${current} of ${state.owned.concurrent ?? "unlimited"} concurrent seats in use, ` +
        `${changes} ${changes === 1 ? "change" : "changes"} today, peak ${peak}.`;
    $("seat-summary").textContent = summary;
    container.setAttribute("aria-label", `Step chart of concurrent seats in use today. ${summary}`);
    renderSeatTable();

    if ($("dashboard-view").hidden) return;
    const width = Math.max(container.clientWidth, 280);
    if (!state.chart) {
      const startOfDay = () => new Date(`${state.curve.day || utcDay(serverNow())}T00:00:00Z`).getTime() / 1000;
      state.chart = new uPlot({
        width,
        height: 220,
        tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
        // The legend only names the series; the seat table lists the values.
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: () => [startOfDay(), startOfDay() + 86400] },
          y: { range: (_u, _min, max) => [0, Math.max(max + 1, (state.owned.concurrent || 0) + 1)] },
        },
        axes: [
          {
            stroke: "#4a5568", grid: { stroke: "#e2e8f0" },
            values: (_u, splits) => splits.map((seconds) => hourFormat.format(new Date(seconds * 1000))),
          },
          { stroke: "#4a5568", grid: { stroke: "#e2e8f0" }, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
        ],
        series: [
          { label: "Time (UTC)" },
          {
            label: "Seats in use", stroke: "#2563eb", width: 2, fill: "rgba(37, 99, 235, 0.12)",
            paths: uPlot.paths.stepped({ align: 1 }), points: { show: false },
          },
          { label: "Owned", stroke: "#b91c1c", width: 1.5, dash: [6, 4], points: { show: false } },
        ],
      }, data, container);
    } else {
      state.chart.setData(data);
      if (state.chart.width !== width) state.chart.setSize({ width, height: 220 });
    }
  }

  function renderSeatTable() {
    const rows = state.curve.points.map((point) => element("tr", {},
      element("td", {}, timeFormat.format(new Date(point.at * 1000))),
      element("td", { className: "number" }, point.seats)));
    $("seat-table").tBodies[0].replaceChildren(...rows);
  }

  function renderSessions() {
    const sessions = [...state.sessions.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    const rows = sessions.map((session) => {
      const user = session.user;
      let action;
      if (session.current) {
        action = element("span", { className: "hint" }, "This dashboard");
      } else {
        action = element("button", {
          type: "button", className: "danger",
          "aria-label": `End the ${session.channel.toLowerCase()} session of ${user.username}`,
        }, "End session");
        action.addEventListener("click", () => endSession(session, action));
      }
      return element("tr", { dataset: { session: session.id, username: user.username } },
        element("td", {}, element("span", { className: "username" }, user.username),
          user.displayName && user.displayName !== user.username ? element("span", { className: "display-name" }, user.displayName) : null),
        element("td", {}, element("span", { className: `channel channel-${session.channel.toLowerCase()}` }, session.channel)),
        element("td", {}, timeElement(session.startedAt)),
        element("td", {}, timeElement(session.lastSeenAt)),
        element("td", { className: "action" }, action));
    });
    $("sessions").tBodies[0].replaceChildren(...rows);
    $("sessions-count").textContent = `(${state.sessionsTotal})`;
    const hidden = state.sessionsTotal - sessions.length;
    $("sessions-note").textContent = sessions.length === 0
      ? "No live sessions."
      : hidden > 0 ? `Showing the newest ${sessions.length} of ${state.sessionsTotal} live sessions.` : "";
    show("sessions-note", sessions.length === 0 || hidden > 0);
  }

  function renderEvents() {
    const rows = state.events.map((event) => element("tr", { dataset: { event: event.id, kind: event.kind } },
      element("td", {}, timeElement(event.occurredAt)),
      element("td", {}, element("span", { className: `event-kind kind-${event.kind.toLowerCase().replace(/_/g, "-")}` }, label(event.kind))),
      element("td", {}, event.licenseType ? label(event.licenseType) : "—"),
      element("td", { className: "number" }, event.inUse !== null && event.owned !== null ? `${event.inUse} / ${event.owned}` : "—"),
      element("td", {}, event.message)));
    $("events").tBodies[0].replaceChildren(...rows);
    show("events", state.events.length > 0);
    show("events-empty", state.events.length === 0);
  }

  // ---- Session end and logout ---------------------------------------------

  function forgetToken() {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(SLICE_KEY);
  }

  function resetToLogin() {
    stopLive();
    forgetToken();
    state.me = null;
    state.sliceId = null;
    state.report = null;
    state.snapshotGeneration += 1;
    if (state.chart) {
      state.chart.destroy();
      state.chart = null;
    }
    show("account", false);
    show("session-limit", false);
    showView("login-view");
  }

  /** Returns to the login because the token no longer names a live session. */
  function sessionEnded() {
    if (!state.token) return;
    resetToLogin();
    setMessage("login-message",
      "Your session has ended: it was logged out, ended by an administrator or expired. Log in again.", "error");
    $("login-username").focus();
  }

  async function logout() {
    try {
      await request(LOGOUT);
    } catch {
      // The token is dropped anyway; the session then ends at its idle deadline.
    }
    resetToLogin();
    setMessage("login-message", "You are logged out.", "info");
    $("login-username").focus();
  }

  // ---- Wiring ----------------------------------------------------------------

  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitLogin();
  });
  $("session-limit").addEventListener("submit", submitSessionLimit);
  $("logout").addEventListener("click", logout);
  $("refusal-back").addEventListener("click", () => {
    showView("login-view");
    setMessage("login-message", null);
    $("login-username").focus();
  });
  $("picker-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const sliceId = $("picker-select").value;
    if (sliceId) openSlice(sliceId);
  });
  $("change-slice").addEventListener("click", () => {
    sessionStorage.removeItem(SLICE_KEY);
    state.sliceId = null;
    showPicker();
  });
  $("retry-now").addEventListener("click", () => {
    if (retryNow) retryNow();
  });
  window.addEventListener("offline", () => {
    if (state.client) setConnection("offline", "Offline, waiting for the network");
  });
  window.addEventListener("resize", () => {
    if (state.chart) renderCurve();
  });
  // Extends the step to the current minute and notices a new UTC day.
  setInterval(() => {
    if (!state.sliceId || state.snapshotVersion === null) return;
    if (state.curve.day && utcDay(serverNow()) !== state.curve.day) loadSnapshot();
    else renderCurve();
  }, 30000);

  if (state.token) {
    start();
  } else {
    showView("login-view");
    $("login-slice").focus();
  }
})();
