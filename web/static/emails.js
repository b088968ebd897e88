// One email's page: the sandboxed frame that shows the message grows to its content's height
// (the frame runs no script of its own; this page reads its height once it has loaded).
"use strict";

document.querySelectorAll(".email-frame").forEach((frame) => {
  const fit = () => {
    try {
      const doc = frame.contentDocument;
      if (doc && doc.documentElement) frame.style.height = `${doc.documentElement.scrollHeight + 16}px`;
    } catch (err) {
      // A frame we cannot read keeps its default height.
    }
  };
  frame.addEventListener("load", fit);
  if (frame.contentDocument && frame.contentDocument.readyState === "complete") fit();
});
