// An Express 5 app with in-memory sessions (express-session's MemoryStore), as its docs show it. Each
// process has its own store: a session lives only on the worker that created it. No supervise code.
//   GET /count -> "<views> <pid>": how many times this session came, and which worker answered
const express = require('express');
const session = require('express-session');

const app = express();
app.use(session({ secret: 'example only', resave: false, saveUninitialized: true }));

app.get('/count', (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1;
  res.send(`${req.session.views} ${process.pid}\n`);
});

app.listen(Number(process.env.PORT || 3000), process.env.HOST || '127.0.0.1');
