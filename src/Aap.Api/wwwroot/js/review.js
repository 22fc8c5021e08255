// Keyboard shortcuts of the review queue (/admin/review): j/k move the focus to the next/previous completion,
// a approves the focused one, r opens its reject form with the focus on the reason. Not while typing in a field.
// Without this script every action is a plain form.
(() => {
  const help = document.querySelector("[data-review-help]");
  if (help) {
    help.hidden = false;
  }

  const items = () => Array.from(document.querySelectorAll("[data-review-item]"));
  const typing = (element) =>
    element instanceof HTMLElement &&
    (element.isContentEditable ||
      element.tagName === "TEXTAREA" ||
      element.tagName === "SELECT" ||
      (element.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(element.type)));

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }

    const list = items();
    const current = list.find((item) => item.contains(document.activeElement));
    const index = current ? list.indexOf(current) : -1;
    if (event.key === "j" || event.key === "k") {
      if (list.length === 0) {
        return;
      }

      const next = event.key === "j" ? Math.min(index + 1, list.length - 1) : Math.max(index - 1, 0);
      list[next].focus();
      list[next].scrollIntoView({ block: "nearest" });
    } else if (event.key === "a" && current) {
      current.querySelector("[data-review-approve]")?.click();
    } else if (event.key === "r" && current) {
      const reject = current.querySelector("details[data-review-reject]");
      reject.open = true;
      reject.querySelector("textarea")?.focus();
    } else {
      return;
    }

    event.preventDefault();
  });
})();
