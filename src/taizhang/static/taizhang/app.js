// Small behaviours that need no library: the phone navigation toggle.
document.addEventListener("click", function (event) {
  var toggle = event.target.closest("[data-nav-toggle]");
  if (!toggle) return;
  var nav = document.getElementById(toggle.getAttribute("aria-controls"));
  var open = nav.classList.toggle("open");
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
});
