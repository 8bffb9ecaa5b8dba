// The phone checklist: keeps a draft in localStorage (so a dropped connection or a closed tab loses nothing),
// keeps the submission key with the draft (so a retry is recognised as the same submission), refuses a second
// tap while submitting, adds the phone's position when it gives one, opens the evidence section of a failed
// item and previews photos. No library, no inline script (CSP allows only 'self').
(function () {
  "use strict";
  var PREFIX = "taizhang.inspection-draft.";
  var SKIP = { csrfmiddlewaretoken: true, version: true };

  function storage() {
    try {
      var probe = PREFIX + "probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  function read(store, id) {
    if (!store) return null;
    try {
      return JSON.parse(store.getItem(PREFIX + id) || "null");
    } catch (e) {
      return null;
    }
  }

  // --- after a successful submission: forget the draft of that submission ---------------------------
  var done = document.querySelector("[data-draft-done]");
  if (done) {
    var s = storage();
    var id = done.getAttribute("data-draft-done");
    var saved = read(s, id);
    if (s && saved && saved.key === done.getAttribute("data-draft-key")) s.removeItem(PREFIX + id);
  }

  var form = document.querySelector("[data-inspect-form]");
  if (!form) return;
  var store = storage();
  var draftId = form.getAttribute("data-draft-id");
  var keyInput = form.querySelector("[data-submission-key]");
  var submit = form.querySelector("[data-submit]");

  function fields() {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "file" || el.type === "submit" || el.type === "button") return;
      if (el.type === "checkbox") {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else if (el.type === "radio") {
        if (el.checked) values[el.name] = el.value;
        else if (!(el.name in values)) values[el.name] = "";
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }

  function save() {
    if (!store) return;
    try {
      store.setItem(PREFIX + draftId, JSON.stringify({ key: keyInput.value, savedAt: Date.now(), fields: fields() }));
    } catch (e) {
      /* storage full or disabled: the form still works */
    }
  }

  function restore(draft) {
    var values = draft.fields || {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "file" || !(el.name in values)) return;
      var v = values[el.name];
      if (el.type === "checkbox") el.checked = Array.isArray(v) && v.indexOf(el.value) !== -1;
      else if (el.type === "radio") el.checked = v === el.value;
      else if (el.name !== "key") el.value = v;
    });
    if (draft.key) keyInput.value = draft.key; // a retry of the same submission keeps its key
  }

  var draft = read(store, draftId);
  if (draft && draft.fields) {
    restore(draft);
    var note = document.querySelector("[data-draft-note]");
    if (note) note.hidden = false;
  }

  var timer = null;
  function saveSoon() {
    clearTimeout(timer);
    timer = setTimeout(save, 300);
  }
  form.addEventListener("input", saveSoon);
  form.addEventListener("change", saveSoon);

  var discard = document.querySelector("[data-draft-discard]");
  if (discard) {
    discard.addEventListener("click", function () {
      if (store) store.removeItem(PREFIX + draftId);
      window.location.reload();
    });
  }

  // --- a failed answer opens its evidence section --------------------------------------------------
  function markFailure(card) {
    var failing = (card.getAttribute("data-fails-on") || "").split("|");
    var checked = card.querySelector("input[type=radio]:checked");
    var failed = !!(checked && failing.indexOf(checked.value) !== -1);
    card.classList.toggle("is-failed", failed);
    var evidence = card.querySelector("[data-evidence]");
    if (failed && evidence) evidence.open = true;
  }
  Array.prototype.forEach.call(form.querySelectorAll("[data-fails-on]"), function (card) {
    markFailure(card);
    card.addEventListener("change", function () {
      markFailure(card);
    });
  });

  // --- 未营业/无人: no questions to answer ----------------------------------------------------------
  var absent = form.querySelector("[data-absent]");
  var questions = form.querySelector("[data-questions]");
  function showQuestions() {
    if (absent && questions) questions.hidden = absent.checked;
  }
  if (absent) absent.addEventListener("change", showQuestions);
  showQuestions();

  // --- photo previews ------------------------------------------------------------------------------
  Array.prototype.forEach.call(form.querySelectorAll("[data-photo-input]"), function (input) {
    input.addEventListener("change", function () {
      var box = input.closest("label").parentNode.querySelector("[data-thumbs]");
      if (!box) return;
      box.textContent = "";
      Array.prototype.forEach.call(input.files || [], function (file) {
        if (!/^image\//.test(file.type)) return;
        var img = document.createElement("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        box.appendChild(img);
      });
    });
  });

  // --- where the phone is (if it says) -------------------------------------------------------------
  var lat = form.querySelector("[data-geo=latitude]");
  var lng = form.querySelector("[data-geo=longitude]");
  var acc = form.querySelector("[data-geo=accuracy]");
  var geoStatus = form.querySelector("[data-geo-status]");
  if (lat && !lat.value && navigator.geolocation && window.isSecureContext !== false) {
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        lat.value = pos.coords.latitude.toFixed(6);
        lng.value = pos.coords.longitude.toFixed(6);
        acc.value = Math.round(pos.coords.accuracy);
        if (geoStatus) geoStatus.textContent = "已获取手机定位（约 ±" + acc.value + " 米），将随检查结果提交。";
      },
      function () {
        if (geoStatus) geoStatus.textContent = "未获取定位（可在手机设置中允许定位），不影响提交。";
      },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
    );
  }

  // --- submitting once ------------------------------------------------------------------------------
  var submitting = false;
  var label = submit ? submit.textContent : "";
  form.addEventListener("submit", function (event) {
    if (submitting) {
      event.preventDefault();
      return;
    }
    save();
    if (navigator.onLine === false) {
      event.preventDefault();
      alert("当前没有网络。已保存草稿，恢复网络后再点“提交”。");
      return;
    }
    submitting = true;
    if (submit) {
      submit.disabled = true;
      submit.textContent = "正在提交……";
    }
    // No answer (a dead connection): let the user try again with the same key.
    setTimeout(function () {
      submitting = false;
      if (submit) {
        submit.disabled = false;
        submit.textContent = "网络较慢，重新提交（不会重复记录）";
      }
    }, 30000);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && submit) {
      submitting = false;
      submit.disabled = false;
      submit.textContent = label;
    }
  });
})();
