// The screenshot form of an app's page (Web/Pages/Apps/_Completion.cshtml): a drop zone that fills the file input,
// a preview, the server's own size and type limits checked before sending (rendered into the form as data-*
// attributes), and an XHR upload with a progress bar. The server answers the XHR with the completion section,
// which replaces the old one: the new status (200), or the refusal next to the field with the refusal's 4xx
// status (the chosen file is kept).
// Without this script the form still posts, and the page comes back.
(() => {
  "use strict";

  let preview = null; // the object URL of the preview shown now

  const formOf = (element) => element.closest("form.upload-form");

  function parts(form) {
    return {
      input: form.querySelector('input[type="file"]'),
      error: form.querySelector(".field-error"),
      field: form.querySelector(".field"),
      image: form.querySelector(".upload-preview"),
      progressBox: form.querySelector(".upload-progress"),
      progress: form.querySelector("progress"),
      button: form.querySelector('button[type="submit"]'),
    };
  }

  function showError(form, message) {
    const { input, error, field } = parts(form);
    error.textContent = message;
    error.hidden = false;
    field.classList.add("field-invalid");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", "screenshot-hint screenshot-error");
  }

  function clearError(form) {
    const { input, error, field } = parts(form);
    error.textContent = "";
    error.hidden = true;
    field.classList.remove("field-invalid");
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", "screenshot-hint");
  }

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  // The same limits the server applies; null when the file may be sent.
  function problemWith(form, file) {
    if (!file) {
      return "Choose a screenshot first.";
    }
    const types = form.dataset.acceptTypes.split(",");
    if (!types.includes(file.type)) {
      return `This file is not an accepted image: choose a ${form.dataset.acceptNames} file.`;
    }
    if (file.size > Number(form.dataset.maxBytes)) {
      return `This file is ${megabytes(file.size)}, larger than the limit of ${form.dataset.maxSize}.`;
    }
    return null;
  }

  function showPreview(form, file) {
    const { image } = parts(form);
    if (preview) {
      URL.revokeObjectURL(preview);
      preview = null;
    }
    if (file && file.type.startsWith("image/")) {
      preview = URL.createObjectURL(file);
      image.src = preview;
      image.hidden = false;
    } else {
      image.removeAttribute("src");
      image.hidden = true;
    }
  }

  function chosen(form) {
    const { input } = parts(form);
    const file = input.files[0];
    const problem = problemWith(form, file);
    if (problem && file) {
      showError(form, problem);
    } else {
      clearError(form);
    }
    showPreview(form, problem ? null : file);
  }

  document.addEventListener("change", (event) => {
    const form = formOf(event.target);
    if (form && event.target.type === "file") {
      chosen(form);
    }
  });

  // Drag and drop onto the field: the dropped file fills the input, as if it had been chosen.
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (event) => {
      const zone = event.target.closest && event.target.closest("[data-drop-zone]");
      if (zone) {
        event.preventDefault();
        zone.classList.add("drop-active");
      }
    });
  }

  document.addEventListener("dragleave", (event) => {
    const zone = event.target.closest && event.target.closest("[data-drop-zone]");
    if (zone && !zone.contains(event.relatedTarget)) {
      zone.classList.remove("drop-active");
    }
  });

  document.addEventListener("drop", (event) => {
    const zone = event.target.closest && event.target.closest("[data-drop-zone]");
    if (!zone) {
      return;
    }
    event.preventDefault();
    zone.classList.remove("drop-active");
    const form = formOf(zone);
    const files = event.dataTransfer && event.dataTransfer.files;
    if (form && files && files.length > 0) {
      const transfer = new DataTransfer();
      transfer.items.add(files[0]);
      parts(form).input.files = transfer.files;
      chosen(form);
    }
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest && event.target.closest("form.upload-form");
    if (!form) {
      return;
    }
    event.preventDefault();
    const { input, progressBox, progress, button } = parts(form);
    const file = input.files[0];
    const problem = problemWith(form, file);
    if (problem) {
      showError(form, problem);
      input.focus();
      return;
    }

    clearError(form);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Upload-Partial", "true");
    progress.value = 0;
    progress.textContent = "0%";
    progressBox.hidden = false;
    button.disabled = true;
    request.upload.addEventListener("progress", (progressEvent) => {
      if (progressEvent.lengthComputable) {
        const percent = Math.round((progressEvent.loaded / progressEvent.total) * 100);
        progress.value = percent;
        progress.textContent = percent + "%";
      }
    });
    request.addEventListener("load", () => {
      // 200: the new status. A refusal keeps its 4xx status (415, 413, 409, 422) and carries the section with the
      // reason next to the field. Anything else (a 500, the 400 page of an expired form) is a failed upload.
      const template = document.createElement("template");
      template.innerHTML = request.responseText;
      const replacement = template.content.querySelector("#completion");
      const refusal = request.status >= 400 && request.status < 500 && replacement && replacement.dataset.refused === "true";
      if (!replacement || (request.status !== 200 && !refusal)) {
        progressBox.hidden = true;
        button.disabled = false;
        showError(form, `The upload failed (${request.status}). Please try again.`);
        return;
      }
      const section = form.closest("#completion");
      section.replaceWith(replacement);
      const again = replacement.querySelector("form.upload-form");
      if (replacement.dataset.refused === "true" && again) {
        // Keep the chosen file next to its refusal, so that the user sees what was refused.
        const keep = new DataTransfer();
        keep.items.add(file);
        parts(again).input.files = keep.files;
        showPreview(again, file);
        parts(again).input.focus();
      } else {
        showPreview(form, null);
        replacement.querySelector("#completion-status").focus();
      }
    });
    request.addEventListener("error", () => {
      progressBox.hidden = true;
      button.disabled = false;
      showError(form, "The upload did not reach the server: check the connection and try again.");
    });
    request.send(new FormData(form));
  });
})();
