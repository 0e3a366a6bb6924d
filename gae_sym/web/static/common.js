"use strict";
// Shared helpers. Text from the server is inserted with textContent only; MathML (already
// sanitised on the server) is parsed as XML, never as HTML, and only a <math> root is kept.
const MATHML_NS = "http://www.w3.org/1998/Math/MathML";

function setMath(element, mathml, fallbackText) {
  element.replaceChildren();
  if (mathml) {
    const doc = new DOMParser().parseFromString(mathml, "application/xml");
    const root = doc.documentElement;
    if (root && root.namespaceURI === MATHML_NS && root.localName === "math" &&
        !doc.getElementsByTagName("parsererror").length) {
      element.appendChild(document.importNode(root, true));
      return;
    }
  }
  element.textContent = fallbackText || "";
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: {"content-type": "application/json"},
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (e) { data = {error: "the server sent no JSON"}; }
  return {status: response.status, data};
}
