// The timeout warning (WCAG 2.2.1 Timing Adjustable).
//
// Casework signs people out after a period without activity (the idle timeout) and, whatever
// they do, a fixed time after they signed in (the absolute timeout). Typing into a page is not
// activity the server can see, so someone writing a long note could lose it silently. This
// module warns two minutes before either timeout and, for the idle one, offers "Stay signed in".
//
// - The dialog is in templates/layouts/base.html (fully signed-in pages only). Its data-
//   attributes say how many seconds were left when the page was rendered; they are turned
//   into deadlines on this browser's clock, so a wrong clock on the computer does not matter.
// - Nothing here runs on a timer against the server: only choosing "Stay signed in" (or
//   pressing Esc, which means the same) calls the keep-alive endpoint.
// - When time runs out, the page goes to the sign-in page, which says why.
// - Other tabs of the same browser share the session: each page tells the others (through a
//   BroadcastChannel) when the session was last used, so a tab left open does not send its
//   person to the sign-in page while they are working in another one.

const WARN_BEFORE_MS = 2 * 60 * 1000;
// The countdown's text changes at most this often (it is announced politely).
const STEP_MS = 15 * 1000;
// Go to the sign-in page a little after the server's deadline, never before it.
const GRACE_MS = 1000;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const CHANNEL = "casework-session-timeout";

const PROBLEM =
  "Sorry, there is a problem: Casework could not be reached. Check your connection, then select Stay signed in again.";

/** "2 minutes", "1 minute 45 seconds", "30 seconds": the time left, rounded up to 15 seconds. */
export function describeTimeLeft(milliseconds) {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  const rounded = Math.max(15, Math.ceil(seconds / 15) * 15);
  const minutes = Math.floor(rounded / 60);
  const rest = rounded % 60;
  const parts = [];
  if (minutes > 0) parts.push(`${minutes} ${minutes === 1 ? "minute" : "minutes"}`);
  if (rest > 0) parts.push(`${rest} seconds`);
  return parts.join(" ");
}

function delay(milliseconds) {
  return Math.min(MAX_TIMEOUT_MS, Math.max(0, milliseconds));
}

export function initSessionTimeout(dialog = document.getElementById("app-session-timeout")) {
  if (!dialog || typeof dialog.showModal !== "function") return null;

  const data = dialog.dataset;
  const idlePeriodMs = Number(data.idlePeriodSeconds) * 1000;
  const loadedAt = Date.now();
  let idleAt = loadedAt + Number(data.idleSeconds) * 1000;
  let absoluteAt = loadedAt + Number(data.absoluteSeconds) * 1000;
  if (![idlePeriodMs, idleAt, absoluteAt].every(Number.isFinite) || !data.keepAliveUrl) {
    return null;
  }

  const countdown = dialog.querySelector("[data-session-timeout-countdown]");
  const problem = dialog.querySelector("[data-session-timeout-problem]");
  const csrfToken = dialog.querySelector('input[name="csrf_token"]')?.value ?? "";
  const channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;

  let mode = "idle";
  let warnTimer = 0;
  let expireTimer = 0;
  let stepTimer = 0;
  // dialog.close() fires its "close" event later, as a task: count the closes made here, so
  // the listener can tell them from Esc.
  let closesByScript = 0;
  let keepingAlive = false;
  // The absolute warning can be closed ("Continue"); it then stays closed for that deadline
  // (give or take the second by which two tabs' idea of it may differ).
  let dismissedDeadline = null;

  const deadline = () => Math.min(idleAt, absoluteAt);
  const modeNow = () => (absoluteAt <= idleAt ? "absolute" : "idle");

  function signInUrl() {
    const next = window.location.pathname + window.location.search;
    return `${data.signInUrl}?next=${encodeURIComponent(next)}`;
  }

  function goToSignIn() {
    clearTimers();
    window.location.assign(signInUrl());
  }

  function clearTimers() {
    window.clearTimeout(warnTimer);
    window.clearTimeout(expireTimer);
    window.clearTimeout(stepTimer);
  }

  function showMode() {
    for (const element of dialog.querySelectorAll("[data-session-timeout-mode]")) {
      element.hidden = element.dataset.sessionTimeoutMode !== mode;
    }
    dialog.setAttribute(
      "aria-describedby",
      `app-session-timeout-countdown app-session-timeout-${mode}`,
    );
  }

  function updateCountdown() {
    const text = `You will be signed out in ${describeTimeLeft(deadline() - Date.now())}.`;
    // Only a real change is written, so screen readers announce it at most every 15 seconds.
    if (countdown.textContent !== text) countdown.textContent = text;
  }

  function scheduleStep() {
    window.clearTimeout(stepTimer);
    const left = deadline() - Date.now();
    if (!dialog.open || left <= 0) return;
    // Wake up when the time left reaches the next multiple of 15 seconds.
    stepTimer = window.setTimeout(() => {
      updateCountdown();
      scheduleStep();
    }, ((left - 1) % STEP_MS) + 1);
  }

  function setProblem(message) {
    problem.replaceChildren();
    if (message) {
      const paragraph = document.createElement("p");
      paragraph.className = "govuk-error-message";
      paragraph.textContent = message;
      problem.append(paragraph);
    }
  }

  function open() {
    mode = modeNow();
    if (mode === "absolute" && Math.abs(deadline() - (dismissedDeadline ?? -Infinity)) < 60_000) {
      return;
    }
    showMode();
    updateCountdown();
    if (!dialog.open) {
      setProblem("");
      dialog.showModal(); // moves focus to the first button
    }
    scheduleStep();
  }

  function close() {
    window.clearTimeout(stepTimer);
    if (!dialog.open) return;
    closesByScript += 1;
    dialog.close();
  }

  function schedule() {
    clearTimers();
    const now = Date.now();
    const ends = deadline();
    if (dialog.open && (ends - now > WARN_BEFORE_MS || modeNow() !== mode)) close();
    warnTimer = window.setTimeout(open, delay(ends - WARN_BEFORE_MS - now));
    expireTimer = window.setTimeout(goToSignIn, delay(ends + GRACE_MS - now));
    if (dialog.open) scheduleStep();
  }

  function tellOtherTabs() {
    channel?.postMessage({ idleAt, absoluteAt });
  }

  // Another tab loaded a page or kept the session alive: the session lasts longer than this
  // page knew.
  function heardFromOtherTab(message) {
    const other = message.data ?? {};
    if (!Number.isFinite(other.idleAt) || !Number.isFinite(other.absoluteAt)) return;
    if (other.idleAt <= idleAt && other.absoluteAt <= absoluteAt) return;
    idleAt = Math.max(idleAt, other.idleAt);
    absoluteAt = Math.max(absoluteAt, other.absoluteAt);
    schedule();
  }

  async function stay() {
    if (keepingAlive) return;
    keepingAlive = true;
    try {
      const response = await fetch(data.keepAliveUrl, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
        credentials: "same-origin",
        cache: "no-store",
        // A redirect means the session has already ended (the server sends it to sign-in).
        // Not following it keeps the server's message for the sign-in page itself.
        redirect: "manual",
      });
      if (response.type === "opaqueredirect") {
        goToSignIn();
        return;
      }
      if (!response.ok) throw new Error(`keep-alive answered ${response.status}`);
      const times = await response.json();
      const idle = Date.parse(times.idle_expires_at);
      const absolute = Date.parse(times.absolute_expires_at);
      if (!Number.isFinite(idle) || !Number.isFinite(absolute)) {
        throw new Error("keep-alive answered without expiry times");
      }
      // The idle timer restarted when the server answered; only the gap between the two
      // deadlines is taken from the server's clock.
      idleAt = Date.now() + idlePeriodMs;
      absoluteAt = idleAt + (absolute - idle);
      tellOtherTabs();
      setProblem("");
      close();
      schedule();
    } catch {
      mode = "idle";
      showMode();
      if (!dialog.open) dialog.showModal();
      setProblem(PROBLEM);
    } finally {
      keepingAlive = false;
    }
  }

  function dismissAbsolute() {
    dismissedDeadline = deadline();
    close();
  }

  dialog.addEventListener("click", (event) => {
    const action = event.target.closest?.("[data-session-timeout-action]");
    if (!action) return;
    if (action.dataset.sessionTimeoutAction === "stay") stay();
    else dismissAbsolute();
  });

  // Esc closes a modal dialog. In the idle warning that means "Stay signed in"; in the
  // absolute one, "Continue". (The browser may close the dialog without a cancelable
  // "cancel" event, so this listens for "close" and tells it apart from closing on purpose.)
  dialog.addEventListener("close", () => {
    if (closesByScript > 0) {
      closesByScript -= 1;
      return;
    }
    window.clearTimeout(stepTimer);
    if (mode === "idle") stay();
    else dismissedDeadline = deadline();
  });

  if (channel) channel.onmessage = heardFromOtherTab;
  tellOtherTabs();
  schedule();
  return { dialog, deadline };
}
