src/a.js
