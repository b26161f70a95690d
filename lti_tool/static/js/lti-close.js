// Tell the platform that Dynamic Registration is finished (LTI DR 1.0, section 3.6).
(function () {
  var target = window.opener || (window.parent !== window ? window.parent : null);
  if (target) { target.postMessage({ subject: "org.imsglobal.lti.close" }, "*"); }
})();
