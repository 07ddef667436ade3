;;; test.el --- Showrunner from Emacs: eglot as it comes, set up as the README says  -*- lexical-binding: t -*-

;; Run by tests/emacs/run.sh as `emacs --batch -l tests/emacs/test.el' with SHOWRUNNER_README,
;; SHOWRUNNER_PROJECT (an `init --example' project, no VCS, its model at the scripted server) and
;; `showrunner' on PATH. A rewrite is started from the code action on a selection; eglot (1.9:
;; no code lenses, no window/showDocument) is asked at both gates with
;; window/showMessageRequest, answered "Approve" where eglot asks (completing-read, stubbed);
;; the edit arrives as workspace/applyEdit, the run's end as window/showMessage. Every wait is
;; on the server's output (accept-process-output), with a deadline.

(require 'cl-lib)
(require 'subr-x)

(defvar sr-failures 0)
(defvar sr-questions nil "The questions eglot was asked to put to the writer, newest first.")
(defvar sr-messages nil "What eglot told the writer, newest first.")

(defun sr-fail (fmt &rest args)
  (setq sr-failures (1+ sr-failures))
  (princ (format "FAIL - %s\n" (apply #'format fmt args))))

(defun sr-check (ok what)
  (if ok (princ (format "ok - %s\n" what)) (sr-fail "%s" what)))

(defun sr-wait (what pred &optional seconds)
  "Waits for PRED (on the server's output), at most SECONDS (default 60)."
  (let ((deadline (+ (float-time) (or seconds 60))))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or (funcall pred) (progn (sr-fail "timed out waiting for %s" what) nil))))

(defun sr-file (path)
  (with-temp-buffer (insert-file-contents path) (buffer-string)))

;; An interactive Emacs activates the installed packages (Debian's elpa-*) at startup; batch
;; mode does not.
(require 'package)
(package-activate-all)

;; Without the README's setup, a project outside version control has no project root: eglot
;; would root the server at the scene's own folder.
(require 'project)
(let ((default-directory (expand-file-name "story/ch01/" (getenv "SHOWRUNNER_PROJECT"))))
  (sr-check (null (project-current)) "without the README's setup the project has no root (no VCS)"))

;; The README's Emacs setup, evaluated as written.
(let* ((readme (sr-file (getenv "SHOWRUNNER_README")))
       (at (or (string-match (regexp-quote "**Emacs** (eglot)") readme) (error "README: no Emacs section")))
       (start (progn (string-match "```elisp\n" readme at) (match-end 0)))
       (end (string-match "^```" readme start))
       (code (substring readme start end)))
  (with-temp-buffer
    (insert code)
    (goto-char (point-min))
    (condition-case nil
        (while t (eval (read (current-buffer)) t))
      (end-of-file nil))))

(require 'eglot)
(princ (format "Emacs %s, eglot %s\n" emacs-version
               (package-version-join (package-desc-version (cadr (assq 'eglot package-alist))))))
(setq eglot-confirm-server-initiated-edits nil) ; the applyEdit lands without a y/n question

;; Where eglot asks the writer: the showMessageRequest question and the code action menu.
(advice-add 'completing-read :around
            (lambda (orig prompt collection &rest rest)
              (let ((choices (all-completions "" collection)))
                (cond ((member "Showrunner: Rewrite" choices) "Showrunner: Rewrite")
                      ((member "Approve" choices)
                       (push (cons prompt choices) sr-questions)
                       "Approve")
                      (t (apply orig prompt collection rest))))))
(advice-add 'eglot--message :before
            (lambda (fmt &rest args) (push (apply #'format fmt args) sr-messages)))

(defconst sr-sentence "The boat stood off, rose, fell, stood off again.")
(defconst sr-rewritten "Łódź stała z dala — wznosiła się, opadała; «czekała».")

(let* ((root (file-name-as-directory (expand-file-name (getenv "SHOWRUNNER_PROJECT"))))
       (scene (expand-file-name "story/ch01/01-arrival.md" root))
       (original (sr-file scene)))
  (find-file scene)
  (sr-check (eq major-mode 'markdown-mode) (format "a scene opens in markdown-mode (%s)" major-mode))
  (sr-check (equal (file-name-as-directory (expand-file-name (project-root (project-current)))) root)
            "the project is the folder holding showrunner.yaml (no VCS)")
  (apply #'eglot (eglot--guess-contact))
  (let ((server (sr-wait "eglot to connect" #'eglot-current-server)))
    (sr-check (and server (equal (file-name-as-directory (expand-file-name (project-root (eglot--project server))))
                                 root))
              "eglot roots the server at the project"))
  ;; Select the sentence; take the Rewrite code action (as M-x eglot-code-actions would).
  (goto-char (point-min))
  (search-forward sr-sentence)
  (let ((end (point)) (beg (- (point) (length sr-sentence)))
        (last-nonmenu-event ?a)) ; not a mouse event: eglot asks with completing-read
    (eglot-code-actions beg end nil t))
  (sr-wait "the approved rewrite in the buffer"
           (lambda () (string-match-p (regexp-quote sr-rewritten) (buffer-string))))
  (sr-check (= (length sr-questions) 2) (format "asked at two gates (%d)" (length sr-questions)))
  (let ((first (car (last sr-questions))) (second (car sr-questions)))
    (sr-check (equal (cdr first) '("Approve" "Edit" "Skip" "Reject" "Open review file"))
              (format "the decisions offered: %S" (cdr first)))
    (sr-check (and first (string-match-p "Review the prompt" (car first))) "the first gate is the prompt")
    (sr-check (and second (string-match-p "Approve the output" (car second))
                   (string-match-p (regexp-quote "/.showrunner/runs/") (car second)))
              "the second is the output, naming its review file"))
  (sr-wait "the run's end as a message"
           (lambda () (cl-some (lambda (m) (string-match-p "rewrite-selection finished" m)) sr-messages)))
  (save-buffer)
  (sr-check (equal (sr-file scene) (string-replace sr-sentence sr-rewritten original))
            "the saved scene holds the approved rewrite, nothing else changed")
  (ignore-errors (eglot-shutdown (eglot-current-server))))

(princ (format "\n%s\n" (if (zerop sr-failures) "emacs: all passed" (format "emacs: %d failed" sr-failures))))
(kill-emacs (if (zerop sr-failures) 0 1))
