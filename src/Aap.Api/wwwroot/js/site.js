// AAP's own script for the pages: no inline scripts anywhere (the pages' CSP forbids them).
// htmx requests that change something carry the antiforgery token the layout renders in a <meta> element, in the
// header the server expects (WebFeature.AntiforgeryHeader).
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="request-verification-token"]');
  if (token && event.detail.verb !== "get") {
    event.detail.headers["X-CSRF-Token"] = token.content;
  }
});

// "Sign out" in the navigation is a link to the sign-out page, so that a page needs no antiforgery token for it (the
// catalog's page is then the same for every user and served from the cache). With scripts on, one click signs out:
// the sign-out page's form, with its token, is fetched and posted. Anything unexpected falls back to the page itself.
document.addEventListener("click", async (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[data-sign-out]") : null;
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  event.preventDefault();
  try {
    const response = await fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const form = page.querySelector("form[data-sign-out-form]");
    if (!response.ok || !form) {
      throw new Error("The sign-out page has no sign-out form.");
    }
    const post = document.importNode(form, true);
    post.hidden = true;
    document.body.append(post);
    post.submit();
  } catch {
    window.location.assign(link.href);
  }
});
