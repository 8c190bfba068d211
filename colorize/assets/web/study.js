// The blind study page: one pair at a time; A / B / T (tie) by key or button; each answer is
// sent at once and saved by the server. Answered pairs are skipped when the page is reopened.
"use strict";

const $ = (selector) => document.querySelector(selector);
let rater = "";
let queue = [];
let total = 0;
let current = null;
let sending = false;

function showError(message) {
  const error = $("#study-error");
  error.textContent = message;
  error.hidden = !message;
}

function showNext() {
  current = queue.shift() ?? null;
  if (current === null) {
    $("#judge").hidden = true;
    $("#finished").hidden = false;
    return;
  }
  const number = String(current).padStart(3, "0");
  $("#image-a").src = `/pairs/${number}_A.png`;
  $("#image-b").src = `/pairs/${number}_B.png`;
  $("#progress").textContent = `Pair ${total - queue.length} of ${total}`;
  $("#judge").hidden = false;
}

async function answer(choice) {
  if (current === null || sending) return;
  sending = true;
  try {
    const response = await fetch("/api/study/answer", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ rater, pair: current, choice }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    showError("");
    $("#saved").textContent = `(${body.answered} saved)`;
    showNext();
  } catch (error) {
    showError(`Not saved: ${error.message}. Try again.`);
  } finally {
    sending = false;
  }
}

async function start(name) {
  const response = await fetch(`/api/study?rater=${encodeURIComponent(name)}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  rater = name;
  localStorage.setItem("colorize-study-rater", name);
  total = body.pairs.length;
  queue = body.pairs.filter((pair) => !(String(pair) in body.answered));
  $("#sign-in").hidden = true;
  showNext();
}

$("#sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  start($("#rater").value.trim()).catch((error) => alert(error.message));
});

document.querySelectorAll("[data-choice]").forEach((button) => {
  button.addEventListener("click", () => answer(button.dataset.choice));
});

document.addEventListener("keydown", (event) => {
  if (current === null || event.target.tagName === "INPUT" || event.ctrlKey || event.metaKey || event.altKey) return;
  const choice = { a: "A", b: "B", t: "tie" }[event.key.toLowerCase()];
  if (choice) {
    event.preventDefault();
    answer(choice);
  }
});

$("#rater").value = localStorage.getItem("colorize-study-rater") || "";
