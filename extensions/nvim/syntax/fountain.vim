" Vim syntax file
" Language:    Fountain (screenplays), https://fountain.io/syntax
" Maintainer:  the Showrunner project (extensions/nvim)
"
" Elements: title page, scene headings (INT./EXT./EST./INT./EXT./I/E and forced `.`, with scene
" numbers `#1A#`), character cues (all caps, or forced `@`) with extensions such as (V.O.) and
" (CONT'D) and the dual-dialogue caret `^`, dialogue and parentheticals, transitions (`CUT TO:`,
" forced `>`), centred text (`>text<`), notes (`[[…]]`), boneyard (`/*…*/`), sections (`#`),
" synopses (`=`), lyrics (`~`), page breaks (`===`), forced action (`!`) and emphasis
" (`*italic*`, `**bold**`, `***bold italic***`, `_underline_`, `\*` escapes).
" Character names may be in any script: upper/lower case is checked with [:upper:]/[:lower:].

if exists("b:current_syntax")
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

syn case match
" Notes and the boneyard may span many lines.
syn sync minlines=200

" Inline elements, usable inside every other element.
syn cluster fountainInline contains=fountainItalic,fountainBold,fountainBoldItalic,fountainUnderline,fountainNote,fountainBoneyard,fountainEscape,@Spell

syn match fountainEscape /\\[*_\\]/ contained

" Emphasis: later definitions win at the same position, so bold italic comes last.
syn region fountainItalic matchgroup=fountainEmphasisMark start=/\\\@<!\*\ze[^* \t]/ end=/\\\@<!\*/ oneline contains=fountainEscape,fountainUnderline,@Spell
syn region fountainUnderline matchgroup=fountainEmphasisMark start=/\\\@<!_\ze[^_ \t]/ end=/\\\@<!_/ oneline contains=fountainEscape,fountainItalic,fountainBold,@Spell
syn region fountainBold matchgroup=fountainEmphasisMark start=/\\\@<!\*\*\ze[^* \t]/ end=/\\\@<!\*\*/ oneline contains=fountainEscape,fountainItalic,fountainUnderline,@Spell
syn region fountainBoldItalic matchgroup=fountainEmphasisMark start=/\\\@<!\*\*\*\ze[^* \t]/ end=/\\\@<!\*\*\*/ oneline contains=fountainEscape,fountainUnderline,@Spell

" Character cue: after a blank line, a line in capitals (no lower-case letter outside the
" parentheses), or forced with `@`; extensions in parentheses; `^` marks dual dialogue; the
" next line must not be blank (it is the dialogue).
syn match fountainCue /\%(^\s*\n\)\@<=\s*\%(@[^()^]\+\|[^[:lower:]()^!.>~=#[ \t][^[:lower:]()^]*\)\%(\s*([^)]*)\)*\s*\^\=\s*\ze\n\s*\S/ contains=fountainCueExtension,fountainDualMark,fountainForcedMark nextgroup=fountainDialogue skipnl
syn match fountainCueExtension /([^)]*)/ contained
syn match fountainDualMark /\^\ze\s*$/ contained
syn match fountainForcedMark /^\s*\zs[@.!>]/ contained

syn region fountainDialogue start=/^\s*\S/ end=/^\s*$/ contained contains=fountainParenthetical,fountainLyrics,@fountainInline
syn match fountainParenthetical /^\s*(.*)\s*$/ contained contains=@fountainInline

" Scene headings, after the cue so that a heading in capitals is a heading.
syn match fountainSceneHeading /^\s*\c\%(INT\.\=\s*\/\s*EXT\|EXT\.\=\s*\/\s*INT\|INT\|EXT\|EST\|I\/E\|E\/I\)[.[:space:]].*$/ contains=fountainSceneNumber,@fountainInline
syn match fountainSceneHeading /^\s*\.[^. \t].*$/ contains=fountainSceneNumber,fountainForcedMark,@fountainInline
syn match fountainSceneNumber /#[[:alnum:].-]\+#\s*$/ contained

" Transitions: capitals ending in `TO:`, or forced with `>` (not closed by `<`).
syn match fountainTransition /^\s*[^[:lower:]]*TO:\s*$/
syn match fountainTransition /^\s*>[^<]*$/ contains=fountainForcedMark
" Centred text: `>THE END<`.
syn match fountainCentered /^\s*>.*<\s*$/ contains=fountainCenteredMark,@fountainInline
syn match fountainCenteredMark /^\s*\zs>\|<\ze\s*$/ contained

" Sections, synopses, lyrics, page breaks, forced action.
syn match fountainSection /^\s*#\{1,6}.*$/ contains=@Spell
syn match fountainSynopsis /^\s*=\%(==\)\@!.*$/ contains=@fountainInline
syn match fountainPageBreak /^\s*===\+\s*$/
syn match fountainLyrics /^\s*\~.*$/ contains=@fountainInline
syn match fountainAction /^\s*!.*$/ contains=fountainForcedMark,@fountainInline

" Notes and the boneyard, anywhere (also inside dialogue and headings).
syn region fountainNote start=/\[\[/ end=/\]\]/ contains=@Spell containedin=ALLBUT,fountainBoneyard,fountainNote
syn region fountainBoneyard start=+/\*+ end=+\*/+ containedin=ALLBUT,fountainBoneyard

" Title page: `Key: value` lines at the very top, up to the first blank line.
syn region fountainTitlePage start=/\%^\ze\s*[[:alpha:]][^:]*:/ end=/^\s*$/ contains=fountainTitleKey,@fountainInline keepend
syn match fountainTitleKey /^\s*\zs[[:alpha:]][^:]*\ze:/ contained

hi def link fountainSceneHeading Title
hi def link fountainSceneNumber Number
hi def link fountainCue Identifier
hi def link fountainCueExtension Type
hi def link fountainDualMark Special
hi def link fountainForcedMark Delimiter
hi def link fountainParenthetical Special
hi def link fountainTransition PreProc
hi def link fountainCentered Constant
hi def link fountainCenteredMark Delimiter
hi def link fountainNote SpecialComment
hi def link fountainBoneyard Comment
hi def link fountainSection Function
hi def link fountainSynopsis Comment
hi def link fountainPageBreak NonText
hi def link fountainLyrics String
hi def link fountainTitleKey Label
hi def link fountainEmphasisMark Delimiter
hi def link fountainEscape Special
hi def fountainItalic term=italic cterm=italic gui=italic
hi def fountainBold term=bold cterm=bold gui=bold
hi def fountainBoldItalic term=bold,italic cterm=bold,italic gui=bold,italic
hi def fountainUnderline term=underline cterm=underline gui=underline

let b:current_syntax = "fountain"

let &cpo = s:cpo_save
unlet s:cpo_save
